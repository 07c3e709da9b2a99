package io.decree.cli;

import io.decree.cli.process.NodeProcess;
import io.decree.core.Outcome;
import io.decree.node.grpc.Channels;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.AdjustRequest;
import io.decree.proto.examples.bank.v1.ReadRequest;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.ParticipantAdminGrpc;
import io.decree.proto.v1.PartyContact;
import io.grpc.StatusRuntimeException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The main job: a coordinator and two account services as separate processes, money transfers
 * between them, a kill -9 of the coordinator and a service mid-run, recovery shown step by step,
 * and a final check that no money appeared or vanished and nothing is left in doubt.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description = "Transfers money between two account services while crashing them (kill -9).")
final class DemoCommand implements Callable<Integer> {
  private static final DateTimeFormatter CLOCK =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());
  private static final long OPENING_BALANCE = 1_000;
  private static final int ACCOUNTS_PER_SERVICE = 5;

  @Option(names = "--transfers", defaultValue = "400", description = "Transfers to run.")
  int transfers;

  @Option(names = "--workers", defaultValue = "4", description = "Transfers in flight at once.")
  int workers;

  @Option(
      names = "--data-dir",
      description = "Where the nodes keep logs (default: a new temp dir).")
  Path dataDir;

  @Option(names = "--seed", description = "Random seed for the transfers (default: time).")
  Long seed;

  private final AtomicInteger done = new AtomicInteger();
  private final AtomicInteger committed = new AtomicInteger();
  private final AtomicInteger aborted = new AtomicInteger();
  private final AtomicInteger unknown = new AtomicInteger();
  private final AtomicInteger notStarted = new AtomicInteger();
  private final Set<String> unknownTxs = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean paused = new AtomicBoolean();
  private final Channels channels = new Channels();

  @Override
  public Integer call() throws Exception {
    Path dir = dataDir != null ? dataDir : Files.createTempDirectory("decree-demo-");
    Random random = new Random(seed != null ? seed : System.nanoTime());
    say("Decree demo: one coordinator and two account services, each its own process.");
    say("Data and logs: " + dir);

    List<NodeProcess> nodes = new ArrayList<>();
    try {
      NodeProcess coordinator =
          NodeProcess.of(
              "coordinator",
              dir.resolve("coordinator.log"),
              List.of(
                  "coordinator",
                  "--data-dir",
                  dir.resolve("coordinator").toString(),
                  "--port",
                  "0"));
      nodes.add(coordinator.start(Duration.ofSeconds(60)));
      // Restarts must find the coordinator where participants remember it: pin its port now.
      String coordinatorAddress = coordinator.address();
      String coordinatorPort =
          coordinatorAddress.substring(coordinatorAddress.lastIndexOf(':') + 1);
      NodeProcess coordinatorAgain =
          NodeProcess.of(
              "coordinator",
              dir.resolve("coordinator.log"),
              List.of(
                  "coordinator",
                  "--data-dir",
                  dir.resolve("coordinator").toString(),
                  "--port",
                  coordinatorPort));
      NodeProcess a = accountService("accounts-a", "a", dir, coordinatorAddress, "0");
      nodes.add(a.start(Duration.ofSeconds(60)));
      NodeProcess b = accountService("accounts-b", "b", dir, coordinatorAddress, "0");
      nodes.add(b.start(Duration.ofSeconds(60)));
      String bPort = b.address().substring(b.address().lastIndexOf(':') + 1);
      NodeProcess bAgain = accountService("accounts-b", "b", dir, coordinatorAddress, bPort);
      for (NodeProcess n : nodes) {
        say(String.format("  %-12s pid %-7d on %s", n.name(), n.pid(), n.address()));
      }
      long total = 2L * ACCOUNTS_PER_SERVICE * OPENING_BALANCE;
      say(
          "Accounts a0..a4 at accounts-a and b0..b4 at accounts-b, "
              + OPENING_BALANCE
              + " each: "
              + total
              + " in all.");
      say("");
      say("Running " + transfers + " transfers, " + workers + " at a time...");

      try (DecreeClient decree =
          DecreeClient.create(List.of(coordinatorAddress), Duration.ofSeconds(5), "demo")) {
        ExecutorService pool = Executors.newFixedThreadPool(workers);
        AtomicInteger started = new AtomicInteger();
        for (int w = 0; w < workers; w++) {
          long workerSeed = random.nextLong();
          pool.submit(
              () -> work(decree, a.address(), b.address(), started, new Random(workerSeed)));
        }
        waitForProgress(transfers * 35 / 100);

        crashAndRecover(coordinator, coordinatorAgain, b, bAgain, a, nodes);

        waitForProgress(transfers);
        pool.shutdown();
        if (!pool.awaitTermination(60, TimeUnit.SECONDS)) {
          pool.shutdownNow();
        }
        progressLine(true);
        return check(decree, a.address(), bAgain.address(), total);
      }
    } finally {
      for (NodeProcess n : nodes) {
        n.close();
      }
      channels.close();
    }
  }

  private static NodeProcess accountService(
      String name, String prefix, Path dir, String coordinator, String port) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "account-service",
                "--name",
                name,
                "--data-dir",
                dir.resolve(name).toString(),
                "--coordinator",
                coordinator,
                "--port",
                port));
    for (int i = 0; i < ACCOUNTS_PER_SERVICE; i++) {
      args.add("--account");
      args.add(prefix + i + "=" + OPENING_BALANCE);
    }
    return NodeProcess.of(name, dir.resolve(name + ".log"), args);
  }

  /** One worker: transfers until the target count is reached. */
  private void work(
      DecreeClient decree, String aAddress, String bAddress, AtomicInteger started, Random random) {
    while (started.getAndIncrement() < transfers) {
      while (paused.get()) {
        sleep(20);
      }
      // Money moves either way, but accounts-a is always called first: every transfer takes its
      // locks in the same order, so two transfers never wait for each other in a cycle.
      String atA = "a" + random.nextInt(ACCOUNTS_PER_SERVICE);
      String atB = "b" + random.nextInt(ACCOUNTS_PER_SERVICE);
      long amount = (1 + random.nextInt(50)) * (random.nextBoolean() ? 1 : -1);
      transfer(decree, aAddress, atA, -amount, bAddress, atB, amount);
      done.incrementAndGet();
      progressLine(false);
    }
  }

  private void transfer(
      DecreeClient decree,
      String firstService,
      String firstAccount,
      long firstAmount,
      String secondService,
      String secondAccount,
      long secondAmount) {
    String tx = null;
    for (int attempt = 0; tx == null; attempt++) {
      try {
        tx = decree.begin(Duration.ofSeconds(10)).txId();
      } catch (RuntimeException coordinatorDown) {
        if (attempt == 50) {
          notStarted.incrementAndGet(); // never begun: nothing to decide, nothing to check
          return;
        }
        sleep(100);
      }
    }
    DecreeClient.Result result;
    try {
      decree.inTransaction(
          tx,
          () -> {
            accounts(firstService)
                .adjust(
                    AdjustRequest.newBuilder()
                        .setAccount(firstAccount)
                        .setAmount(firstAmount)
                        .build());
            accounts(secondService)
                .adjust(
                    AdjustRequest.newBuilder()
                        .setAccount(secondAccount)
                        .setAmount(secondAmount)
                        .build());
          });
      result = decree.commit(tx);
    } catch (StatusRuntimeException businessCallFailed) {
      result = decree.rollback(tx);
    }
    switch (result.outcome()) {
      case COMMITTED -> committed.incrementAndGet();
      case ABORTED -> aborted.incrementAndGet();
      case UNKNOWN -> {
        unknown.incrementAndGet();
        unknownTxs.add(tx);
      }
    }
  }

  private void crashAndRecover(
      NodeProcess coordinator,
      NodeProcess coordinatorAgain,
      NodeProcess b,
      NodeProcess bAgain,
      NodeProcess a,
      List<NodeProcess> nodes)
      throws Exception {
    progressLine(true);
    say("");
    say(
        ">>> kill -9 the coordinator (pid "
            + coordinator.pid()
            + ") and accounts-b (pid "
            + b.pid()
            + ") mid-run");
    // Crash at a moment when accounts-b holds a prepared branch, so recovery has work to show.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline && inDoubt(b.address()).isEmpty()) {
      Thread.onSpinWait();
    }
    coordinator.kill();
    b.kill();
    paused.set(true);
    sleep(300);
    say(">>> restart accounts-b from its write-ahead log (the coordinator stays down)");
    nodes.add(bAgain.start(Duration.ofSeconds(60)));
    sleep(1_500);
    Set<String> doubted = new java.util.TreeSet<>();
    doubted.addAll(showInDoubt("accounts-b", bAgain.address()));
    doubted.addAll(showInDoubt("accounts-a", a.address()));
    say(">>> restart the coordinator from its decision log");
    nodes.add(coordinatorAgain.start(Duration.ofSeconds(60)));
    waitUntilNothingInDoubt(List.of(a.address(), bAgain.address()), Duration.ofSeconds(60));
    for (String tx : doubted) {
      say(
          String.format(
              "    tx %s: %s at accounts-a, %s at accounts-b",
              tx, branchState(a.address(), tx), branchState(bAgain.address(), tx)));
    }
    say("    every in-doubt branch learned its decision; transfers resume");
    say("");
    paused.set(false);
  }

  /** Prints a participant's in-doubt branches with their blocking evidence; returns their ids. */
  private List<String> showInDoubt(String name, String address) {
    List<BranchStatus> branches = inDoubt(address);
    if (branches.isEmpty()) {
      say(
          "    "
              + name
              + ": no branch in doubt (none was between its YES and the decision at the crash)");
      return List.of();
    }
    say("    " + name + ": " + branches.size() + " branch(es) in doubt, blocked, not guessing:");
    long now = System.currentTimeMillis();
    for (BranchStatus branch : branches) {
      var blocking = branch.getBlocking();
      say(
          String.format(
              "      tx %s  %s since %s, waiting for: %s",
              branch.getTxId(),
              branch.getState(),
              CLOCK.format(Instant.ofEpochMilli(blocking.getSinceUnixMillis())),
              blocking.getWaitingFor()));
      for (PartyContact c : blocking.getContactsList()) {
        say(
            String.format(
                "        %-11s last answer %s%s",
                c.getParty(),
                c.getLastSuccessUnixMillis() == 0
                    ? "never"
                    : (now - c.getLastSuccessUnixMillis()) + " ms ago",
                c.getLastError().isEmpty() ? "" : ", last error: " + c.getLastError()));
      }
      say(
          String.format(
              "        retries %d, next retry in %d ms",
              blocking.getRetries(), Math.max(0, blocking.getNextRetryUnixMillis() - now)));
    }
    return branches.stream().map(BranchStatus::getTxId).toList();
  }

  private String branchState(String address, String txId) {
    return ParticipantAdminGrpc.newBlockingStub(channels.get(address))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .listBranches(ListBranchesRequest.getDefaultInstance())
        .getBranchesList()
        .stream()
        .filter(b -> b.getTxId().equals(txId))
        .map(BranchStatus::getState)
        .findFirst()
        .orElse("no branch");
  }

  private List<BranchStatus> inDoubt(String address) {
    return ParticipantAdminGrpc.newBlockingStub(channels.get(address))
        .withDeadlineAfter(5, TimeUnit.SECONDS)
        .listBranches(ListBranchesRequest.newBuilder().setInDoubtOnly(true).build())
        .getBranchesList();
  }

  private void waitUntilNothingInDoubt(List<String> addresses, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      boolean any = false;
      for (String address : addresses) {
        try {
          any |= !inDoubt(address).isEmpty();
        } catch (StatusRuntimeException notYet) {
          any = true;
        }
      }
      if (!any) {
        return;
      }
      sleep(100);
    }
    say("    still in doubt after " + timeout.toSeconds() + " s");
  }

  private void waitUntilSettled(List<String> addresses, Duration timeout) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      long open = 0;
      for (String address : addresses) {
        open +=
            ParticipantAdminGrpc.newBlockingStub(channels.get(address))
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .listBranches(ListBranchesRequest.getDefaultInstance())
                .getBranchesList()
                .stream()
                .filter(br -> !FINISHED.contains(br.getState()))
                .count();
      }
      if (open == 0) {
        return;
      }
      sleep(200);
    }
  }

  private static final Set<String> FINISHED = Set.of("COMMITTED", "ABORTED", "READ_ONLY");

  private int check(DecreeClient decree, String aAddress, String bAddress, long total) {
    say("");
    say("Checks:");
    waitUntilNothingInDoubt(List.of(aAddress, bAddress), Duration.ofSeconds(30));
    // A branch whose transaction died with the coordinator before commit stays ACTIVE (holding
    // its locks) until the transaction's deadline, then aborts itself: wait for that.
    waitUntilSettled(List.of(aAddress, bAddress), Duration.ofSeconds(30));
    int leftInDoubt = inDoubt(aAddress).size() + inDoubt(bAddress).size();
    int resolved = 0;
    for (String tx : unknownTxs) {
      if (decree.status(tx).outcome() != Outcome.UNKNOWN) {
        resolved++;
      }
    }
    // Read every balance inside one transaction: its shared locks wait out any transfer still
    // finishing phase 2, so the sum is a consistent snapshot.
    long sum = 0;
    String reader = decree.begin(Duration.ofSeconds(30)).txId();
    long[] parts = new long[2];
    decree.inTransaction(
        reader,
        () -> {
          parts[0] =
              sumOf(accounts(aAddress).read(ReadRequest.getDefaultInstance()).getBalancesMap());
          parts[1] =
              sumOf(accounts(bAddress).read(ReadRequest.getDefaultInstance()).getBalancesMap());
        });
    decree.commit(reader);
    sum = parts[0] + parts[1];
    boolean conserved = sum == total;
    boolean settled = leftInDoubt == 0;
    say(
        String.format(
            "  total balance %d, opening total %d: %s",
            sum, total, conserved ? "conserved" : "NOT CONSERVED"));
    say(
        String.format(
            "  branches left in doubt: %d%s", leftInDoubt, settled ? "" : "  <-- problem"));
    say(
        String.format(
            "  client answers: %d committed, %d aborted, %d unknown (now definite on asking again: %d of %d)",
            committed.get(), aborted.get(), unknown.get(), resolved, unknownTxs.size()));
    boolean ok = conserved && settled && resolved == unknownTxs.size();
    say(
        ok
            ? "Demo passed: no money lost or created, nothing left in doubt."
            : "Demo FAILED: see above.");
    return ok ? 0 : 1;
  }

  private static long sumOf(Map<String, Long> balances) {
    return balances.values().stream().mapToLong(Long::longValue).sum();
  }

  private AccountsGrpc.AccountsBlockingStub accounts(String address) {
    return AccountsGrpc.newBlockingStub(channels.get(address))
        .withInterceptors(DecreeContext.clientInterceptor())
        .withDeadlineAfter(5, TimeUnit.SECONDS);
  }

  private void waitForProgress(int target) {
    long last = System.nanoTime();
    int lastDone = -1;
    while (done.get() < target) {
      sleep(100);
      progressLine(false);
      if (done.get() != lastDone) {
        lastDone = done.get();
        last = System.nanoTime();
      } else if (System.nanoTime() - last > TimeUnit.SECONDS.toNanos(60)) {
        say("no progress for 60 s; giving up");
        return;
      }
    }
  }

  private final AtomicLong lastPrint = new AtomicLong();

  /** On a terminal the bar redraws in place; in a log it prints a line every 10%. */
  private final boolean terminal = System.console() != null;

  private int lastDecile = -1;

  private synchronized void progressLine(boolean force) {
    long now = System.nanoTime();
    if (!force && now - lastPrint.get() < TimeUnit.MILLISECONDS.toNanos(100)) {
      return;
    }
    int decile = done.get() * 10 / Math.max(1, transfers);
    if (!terminal && !force && decile == lastDecile) {
      return;
    }
    lastDecile = decile;
    lastPrint.set(now);
    int width = 30;
    int filled = (int) Math.min(width, (long) done.get() * width / Math.max(1, transfers));
    System.out.printf(
        (terminal ? "\r" : "") + "  [%s%s] %d/%d  committed %d  aborted %d  unknown %d",
        "#".repeat(filled),
        ".".repeat(width - filled),
        done.get(),
        transfers,
        committed.get(),
        aborted.get(),
        unknown.get());
    if (force || !terminal) {
      System.out.println();
    }
    System.out.flush();
  }

  private static void say(String line) {
    System.out.println(line);
    System.out.flush();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
