package io.decree.jepsen;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.decree.jepsen.check.Checkers;
import io.decree.jepsen.check.RunFacts;
import io.decree.jepsen.check.Validity;
import io.decree.jepsen.check.Verdict;
import io.decree.jepsen.db.ChildJvm;
import io.decree.jepsen.db.DbCluster;
import io.decree.jepsen.db.Nemesis;
import io.decree.jepsen.history.History;
import io.decree.jepsen.history.Op;
import io.decree.jepsen.report.Report;
import io.decree.jepsen.workload.Session;
import io.decree.jepsen.workload.Workload;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.decree.proto.examples.bank.v1.ReadRequest;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.NodeStatusRequest;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.ParticipantAdminGrpc;
import io.decree.proto.v1.StatusRequest;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.StatusRuntimeException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * One run: start the cluster, run clients, the nemesis and the monitor for the configured time;
 * then heal everything, kill -9 and restart every node, wait out the recovery window, read the
 * final state (retrying until a read succeeds), stop everything and judge the history. Every thread
 * and process it starts is bounded in time and stopped in {@code finally}.
 */
public final class JepsenRun {
  /** What a run produced. */
  public record Result(
      Path dir,
      List<Verdict> verdicts,
      Validity validity,
      Map<String, Long> counts,
      Map<String, Integer> faults) {
    public Verdict verdict(String checker) {
      return verdicts.stream()
          .filter(v -> v.checker().equals(checker))
          .findFirst()
          .orElseThrow(() -> new IllegalArgumentException("no checker " + checker));
    }
  }

  private static final long MONITOR_PERIOD_MILLIS = 500;
  private static final int FINAL_READ_ATTEMPTS = 40;

  /**
   * When branches are still in doubt after the recovery window, they hold their locks: a read over
   * every key will not get through them, so fewer attempts.
   */
  private static final int FINAL_READ_ATTEMPTS_UNSETTLED = 5;

  private final RunConfig config;
  private final Map<String, ManagedChannel> channels = new HashMap<>();

  public JepsenRun(RunConfig config) {
    this.config = config;
  }

  public Result run() {
    Path dir = runDirectory();
    Workload workload = Workload.named(config.workload());
    List<Map<String, Long>> accounts = workload.openingAccounts(config.participants());
    History history = new History(dir.resolve("history.jsonl"));
    DbCluster db =
        new DbCluster(dir.resolve("nodes"), config.coordinators(), accounts, config.jvmOptions());
    ExecutorService threads = Executors.newFixedThreadPool(config.clients() + 2);
    AtomicBoolean stopClients = new AtomicBoolean();
    Map<String, Integer> faults = new LinkedHashMap<>();
    RunFacts facts;
    try {
      say(dir, "starting " + db.nodeNames());
      db.start();
      history.add("harness", Op.START, "run", summary(db), null, null);
      long endNanos = System.nanoTime() + config.time().toNanos();

      List<Future<?>> workers = new ArrayList<>();
      for (int i = 0; i < config.clients(); i++) {
        long seed = config.seed() * 31 + i;
        String process = Integer.toString(i);
        workers.add(
            threads.submit(
                () -> {
                  try (Session s =
                      new Session(
                          process,
                          db.clientCoordinatorAddresses(),
                          db::clientParticipantAddress,
                          history,
                          seed)) {
                    while (!stopClients.get() && System.nanoTime() < endNanos) {
                      workload.step(s, db.participants());
                    }
                  }
                }));
      }
      Future<?> monitor = threads.submit(() -> monitor(db, history, stopClients));
      Nemesis nemesis =
          new Nemesis(
              db, history, config.nemeses(), config.seed(), config.timing(), () -> leader(db));
      Future<?> nemesisRun = threads.submit(() -> nemesis.run(endNanos));
      await(nemesisRun, config.time().plusSeconds(120));
      long left;
      while ((left = endNanos - System.nanoTime()) > 0) { // no nemesis: it returned at once
        Thread.sleep(Math.max(1, left / 1_000_000L));
      }
      stopClients.set(true);
      for (Future<?> w : workers) {
        await(w, Duration.ofSeconds(60));
      }
      faults.putAll(nemesis.counts());

      say(dir, "healing, then kill -9 and restart of every node");
      JsonObject heal = new JsonObject();
      heal.addProperty("id", "final");
      history.add("harness", Op.START, "heal-and-restart", heal, null, null);
      db.network().healAll();
      for (String n : db.nodeNames()) {
        db.node(n).kill9();
      }
      for (String n : db.nodeNames()) {
        if (!config.switchesSurviveFinalRestart()) {
          db.node(n).dropJvmOptions();
        }
      }
      db.start();
      history.add("harness", Op.STOP, "heal-and-restart", heal, null, null);

      Map<String, List<String>> inDoubt = awaitSettled(db, history);
      await(monitor, Duration.ofSeconds(10));
      boolean settled = inDoubt.values().stream().allMatch(open -> open != null && open.isEmpty());
      Map<String, Map<String, Long>> finalRead =
          finalRead(
              db, history, settled ? FINAL_READ_ATTEMPTS : FINAL_READ_ATTEMPTS_UNSETTLED, settled);
      Map<String, Map<String, String>> branchStates = branchStates(db);
      facts =
          new RunFacts(
              history.ops(),
              branchStates,
              inDoubt,
              finalRead,
              workload.bankTotal(),
              decisions(db, branchStates));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("run interrupted", e);
    } finally {
      stopClients.set(true);
      threads.shutdownNow();
      try {
        threads.awaitTermination(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      channels.values().forEach(ManagedChannel::shutdownNow);
      db.close();
      history.close();
    }
    List<Verdict> verdicts = Checkers.all(facts);
    Validity validity = Checkers.overall(verdicts);
    Map<String, Long> counts = Report.counts(facts.history());
    Result result = new Result(dir, verdicts, validity, counts, faults);
    Report.write(result, config, facts.history(), db.logs(), gitRevision());
    say(dir, "verdict " + validity + " " + counts + " faults " + faults);
    return result;
  }

  private Path runDirectory() {
    String name =
        LocalDateTime.now().format(DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss"))
            + "-"
            + config.workload()
            + "-s"
            + config.seed();
    Path dir = config.outputRoot().resolve(name);
    for (int i = 2; Files.exists(dir); i++) {
      dir = config.outputRoot().resolve(name + "-" + i);
    }
    try {
      Files.createDirectories(dir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }

  private JsonObject summary(DbCluster db) {
    JsonObject v = new JsonObject();
    JsonArray nodes = new JsonArray();
    db.nodeNames().forEach(nodes::add);
    v.add("nodes", nodes);
    v.addProperty("workload", config.workload());
    v.addProperty("seed", config.seed());
    return v;
  }

  /** The coordinator that says it leads; a single node always does. */
  private String leader(DbCluster db) {
    if (db.coordinators().size() == 1) {
      return db.coordinators().get(0);
    }
    for (String c : db.coordinators()) {
      try {
        String role =
            CoordinatorAdminGrpc.newBlockingStub(channel(db.directAddress(c)))
                .withDeadlineAfter(1, TimeUnit.SECONDS)
                .getNodeStatus(NodeStatusRequest.getDefaultInstance())
                .getRole();
        if (role.equals("LEADER")) {
          return c;
        }
      } catch (StatusRuntimeException down) {
        // ask the next one
      }
    }
    return db.coordinators().get(0);
  }

  /** Every half second, each participant's in-doubt branches with their blocking report. */
  private void monitor(DbCluster db, History history, AtomicBoolean stop) {
    long bound =
        System.nanoTime() + config.time().plus(config.recovery()).plusSeconds(300).toNanos();
    while (!stop.get() && System.nanoTime() < bound && !Thread.currentThread().isInterrupted()) {
      for (String p : db.participants()) {
        ChildJvm node = db.node(p);
        if (!node.alive() || node.paused()) {
          continue;
        }
        try {
          List<BranchStatus> branches = inDoubt(db, p, 1);
          if (!branches.isEmpty()) {
            JsonObject v = new JsonObject();
            v.addProperty("participant", p);
            JsonArray bs = new JsonArray();
            for (BranchStatus b : branches) {
              JsonObject o = new JsonObject();
              o.addProperty("tx", b.getTxId());
              o.addProperty("state", b.getState());
              o.addProperty("blocked", b.hasBlocking());
              o.addProperty("waitingFor", b.hasBlocking() ? b.getBlocking().getWaitingFor() : "");
              bs.add(o);
            }
            v.add("branches", bs);
            history.add("monitor", Op.OBSERVE, "in-doubt", v, null, null);
          }
        } catch (StatusRuntimeException unreachable) {
          // restarting or partitioned from us: nothing observed
        }
      }
      try {
        Thread.sleep(MONITOR_PERIOD_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  private List<BranchStatus> inDoubt(DbCluster db, String p, long deadlineSeconds) {
    return ParticipantAdminGrpc.newBlockingStub(channel(db.directAddress(p)))
        .withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS)
        .listBranches(ListBranchesRequest.newBuilder().setInDoubtOnly(true).build())
        .getBranchesList();
  }

  /**
   * Waits, within the recovery window, until no participant holds an in-doubt or active branch;
   * returns what is still in doubt at the end (null for a participant that never answered).
   */
  private Map<String, List<String>> awaitSettled(DbCluster db, History history) {
    long deadline = System.nanoTime() + config.recovery().toNanos();
    Map<String, List<String>> inDoubt = new TreeMap<>();
    while (true) {
      inDoubt.clear();
      boolean open = false;
      for (String p : db.participants()) {
        try {
          List<String> left = new ArrayList<>();
          List<BranchStatus> all =
              ParticipantAdminGrpc.newBlockingStub(channel(db.directAddress(p)))
                  .withDeadlineAfter(10, TimeUnit.SECONDS)
                  .listBranches(ListBranchesRequest.getDefaultInstance())
                  .getBranchesList();
          for (BranchStatus b : all) {
            boolean finished =
                b.getState().equals("COMMITTED")
                    || b.getState().equals("ABORTED")
                    || b.getState().equals("READ_ONLY");
            if (!finished) {
              open = true;
              if (!b.getState().equals("ACTIVE")) {
                left.add(
                    b.getTxId()
                        + " "
                        + b.getState()
                        + (b.hasBlocking()
                            ? " waiting for " + b.getBlocking().getWaitingFor()
                            : ""));
              }
            }
          }
          inDoubt.put(p, left);
        } catch (StatusRuntimeException e) {
          open = true;
          inDoubt.put(p, null);
        }
      }
      if (!open || System.nanoTime() > deadline) {
        JsonObject v = new JsonObject();
        v.addProperty("settled", !open);
        history.add("harness", Op.OBSERVE, "recovery-window-end", v, null, null);
        return inDoubt;
      }
      sleep(500);
    }
  }

  /**
   * A read transaction over every participant, retried until it commits (bounded). A participant
   * reads at most {@code keysPerBranchMax} (1024) keys in one branch, which a long atomic run
   * outgrows: then, if every branch everywhere has finished (settled) and the clients have stopped,
   * the committed state is final and is read outside a transaction instead.
   */
  private Map<String, Map<String, Long>> finalRead(
      DbCluster db, History history, int attempts, boolean settled) {
    List<String> coordinators = new ArrayList<>();
    db.coordinators().forEach(c -> coordinators.add(db.directAddress(c)));
    try (DecreeClient decree =
        DecreeClient.create(coordinators, Duration.ofSeconds(10), "jepsen-final-read")) {
      for (int attempt = 1; attempt <= attempts; attempt++) {
        JsonObject invoke = new JsonObject();
        invoke.addProperty("attempt", attempt);
        history.add("final", Op.INVOKE, "final-read", invoke, null, null);
        String tx = null;
        try {
          tx = decree.begin(Duration.ofSeconds(30)).txId();
          Map<String, Map<String, Long>> values = new TreeMap<>();
          String txId = tx;
          DecreeContext.run(
              tx,
              () -> {
                for (String p : db.participants()) {
                  values.put(
                      p,
                      new TreeMap<>(
                          AccountsGrpc.newBlockingStub(channel(db.directAddress(p)))
                              .withInterceptors(DecreeContext.clientInterceptor())
                              .withDeadlineAfter(10, TimeUnit.SECONDS)
                              .read(ReadRequest.getDefaultInstance())
                              .getBalancesMap()));
                }
              });
          DecreeClient.Result r = decree.commit(txId);
          if (r.outcome() == io.decree.core.Outcome.COMMITTED) {
            JsonObject ok = new JsonObject();
            values.forEach((p, m) -> ok.addProperty(p, m.size() + " keys"));
            history.add("final", Op.OK, "final-read", ok, tx, null);
            return values;
          }
          history.add("final", Op.FAIL, "final-read", invoke, tx, r.outcome() + " " + r.reason());
        } catch (RuntimeException e) {
          if (tx != null) {
            try {
              decree.rollback(tx);
            } catch (RuntimeException ignored) {
              // the transaction's timeout will end it
            }
          }
          history.add("final", Op.FAIL, "final-read", invoke, tx, e.toString());
          if (e instanceof StatusRuntimeException s
              && s.getStatus().getCode() == io.grpc.Status.Code.FAILED_PRECONDITION
              && String.valueOf(s.getStatus().getDescription()).contains("keysPerBranchMax")) {
            return settled ? committedRead(db, history) : null;
          }
        }
        sleep(1_000);
      }
    }
    return null;
  }

  /** Each participant's committed state, read outside any transaction (after settling only). */
  private Map<String, Map<String, Long>> committedRead(DbCluster db, History history) {
    JsonObject invoke = new JsonObject();
    invoke.addProperty("mode", "committed state, no transaction (too many keys for one branch)");
    history.add("final", Op.INVOKE, "final-read", invoke, null, null);
    try {
      Map<String, Map<String, Long>> values = new TreeMap<>();
      for (String p : db.participants()) {
        values.put(
            p,
            new TreeMap<>(
                AccountsGrpc.newBlockingStub(channel(db.directAddress(p)))
                    .withDeadlineAfter(30, TimeUnit.SECONDS)
                    .read(ReadRequest.getDefaultInstance())
                    .getBalancesMap()));
      }
      JsonObject ok = new JsonObject();
      ok.addProperty("mode", "committed state");
      values.forEach((p, m) -> ok.addProperty(p, m.size() + " keys"));
      history.add("final", Op.OK, "final-read", ok, null, null);
      return values;
    } catch (StatusRuntimeException e) {
      history.add("final", Op.FAIL, "final-read", invoke, null, e.toString());
      return null;
    }
  }

  /** Every branch each participant remembers after the final restart (rebuilt from its WAL). */
  private Map<String, Map<String, String>> branchStates(DbCluster db) {
    Map<String, Map<String, String>> out = new TreeMap<>();
    for (String p : db.participants()) {
      try {
        Map<String, String> states = new HashMap<>();
        for (BranchStatus b :
            ParticipantAdminGrpc.newBlockingStub(channel(db.directAddress(p)))
                .withDeadlineAfter(30, TimeUnit.SECONDS)
                .listBranches(ListBranchesRequest.getDefaultInstance())
                .getBranchesList()) {
          states.put(b.getTxId(), b.getState());
        }
        out.put(p, states);
      } catch (StatusRuntimeException e) {
        return null;
      }
    }
    return out;
  }

  /**
   * For each transaction some participant holds a branch of, the decision the coordinator logged
   * (read-only: DescribeTransaction never presumes an abort). Those it no longer holds, or cannot
   * be asked about, are left out.
   */
  private Map<String, String> decisions(
      DbCluster db, Map<String, Map<String, String>> branchStates) {
    Map<String, String> out = new TreeMap<>();
    if (branchStates == null) {
      return out;
    }
    var admin = CoordinatorAdminGrpc.newBlockingStub(channel(db.directAddress(leader(db))));
    java.util.Set<String> txs = new java.util.TreeSet<>();
    branchStates.values().forEach(states -> txs.addAll(states.keySet()));
    for (String tx : txs) {
      try {
        Outcome decided =
            admin
                .withDeadlineAfter(5, TimeUnit.SECONDS)
                .describeTransaction(StatusRequest.newBuilder().setTxId(tx).build())
                .getDecision();
        if (decided == Outcome.COMMITTED || decided == Outcome.ABORTED) {
          out.put(tx, decided.name());
        }
      } catch (StatusRuntimeException unknownOrDown) {
        // not held any more (or the coordinator is gone): nothing to compare with
      }
    }
    return out;
  }

  private synchronized ManagedChannel channel(String address) {
    return channels.computeIfAbsent(
        address,
        a ->
            ManagedChannelBuilder.forTarget(a)
                .usePlaintext()
                .maxInboundMessageSize(256 << 20)
                .build());
  }

  private static void await(Future<?> f, Duration timeout) {
    try {
      f.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      f.cancel(true);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new IllegalStateException("harness thread failed: " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      f.cancel(true);
    }
  }

  static String gitRevision() {
    try {
      Process git =
          new ProcessBuilder("git", "rev-parse", "--short", "HEAD")
              .redirectErrorStream(true)
              .start();
      if (!git.waitFor(5, TimeUnit.SECONDS)) {
        git.destroyForcibly();
        return "unknown";
      }
      String out = new String(git.getInputStream().readAllBytes()).trim();
      return git.exitValue() == 0 ? out : "unknown";
    } catch (IOException e) {
      return "unknown";
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "unknown";
    }
  }

  private static void say(Path dir, String line) {
    System.out.println("[jepsen " + dir.getFileName() + "] " + line);
    System.out.flush();
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
