package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.participant.BranchState;
import io.decree.core.participant.BranchView;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A deterministic simulation of one coordinator, several participants and clients: one thread, one
 * seed, a faulty network, a disk that loses unsynced records, crashes and restarts. The same seed
 * replays the same run exactly.
 */
final class Simulation {
  /** The outcome of one run. */
  record Result(
      long seed,
      List<String> violations,
      int transactions,
      long definiteAnswers,
      long unknownAnswers,
      int crashes,
      long messagesDropped,
      int heuristicBranches,
      int heuristicMismatches,
      long peerAnswers,
      int leaderChanges,
      long fencedAppends) {
    boolean ok() {
      return violations.isEmpty();
    }

    String describe() {
      return "seed "
          + seed
          + ": "
          + transactions
          + " transactions, "
          + crashes
          + " crashes, "
          + messagesDropped
          + " messages dropped, "
          + definiteAnswers
          + " definite / "
          + unknownAnswers
          + " unknown answers, "
          + heuristicBranches
          + " forced branches ("
          + heuristicMismatches
          + " mismatched)"
          + (leaderChanges > 0
              ? ", " + leaderChanges + " leader changes, " + fencedAppends + " fenced appends"
              : "")
          + (ok() ? "" : "; VIOLATIONS: " + violations);
    }
  }

  private final long seed;
  private final SimOptions options;
  private final Random random;

  /** The operator's own choices, so that adding it leaves the rest of a seed's run unchanged. */
  private final Random operatorRandom;

  private final Scheduler scheduler = new Scheduler();
  private final SimNetwork network;
  private final Checker checker = new Checker();
  private final CoordinatorSide coordinator;
  private final List<SimParticipant> participants = new ArrayList<>();
  private final Map<String, SimParticipant> byName = new HashMap<>();
  private final Map<Long, Consumer<ClientReply>> calls = new HashMap<>();
  private final Map<Long, String> callers = new HashMap<>();
  private final Set<TxId> begun = new LinkedHashSet<>();
  private long nextCallId;
  private boolean faulty = true;
  private int crashes;
  private long peerAnswers;

  private boolean clientsForgetAParticipant;
  private boolean checkpointsWithoutPrepared;
  private boolean clientsCommitWithoutNaming;

  Simulation(long seed, SimOptions options) {
    this.seed = seed;
    this.options = options;
    this.random = new Random(seed);
    this.operatorRandom = new Random(seed * 31 + 7);
    this.network = new SimNetwork(scheduler, random, options);
    this.coordinator =
        options.cluster().members() > 1 ? new SimCluster(this) : new SimCoordinator(this);
    for (int i = 0; i < options.participants(); i++) {
      SimParticipant p = new SimParticipant(this, "p" + i);
      participants.add(p);
      byName.put(p.ref.name(), p);
    }
  }

  Result run() {
    coordinator.start();
    participants.forEach(SimParticipant::start);
    for (int i = 0; i < options.clients(); i++) {
      new SimClient(this, "c" + i, options.transactionsPerClient()).start();
    }
    scheduleFaults();
    long faultEnd = scheduler.now() + options.faultMillis();
    runUntil(faultEnd);
    heal();
    runUntil(scheduler.now() + options.quietMillis());
    checker.checkTermination();
    checker.checkHeuristics(participants);
    checkFinalAnswers();
    return new Result(
        seed,
        List.copyOf(checker.violations()),
        begun.size(),
        checker.definiteAnswers,
        checker.unknownAnswers,
        crashes,
        network.dropped,
        checker.heuristicBranches(),
        checker.heuristicMismatches(),
        peerAnswers,
        coordinator.leaderChanges(),
        coordinator.fencedAppends());
  }

  private void runUntil(long untilMillis) {
    while (checker.violations().isEmpty() && scheduler.step(untilMillis)) {
      // Each event's checks ran inside it; stop at the first violation for a short report.
    }
    scheduler.advanceTo(untilMillis);
  }

  private void heal() {
    faulty = false;
    network.heal();
    coordinator.heal();
    for (SimParticipant p : participants) {
      if (!p.up()) {
        p.start();
      }
    }
  }

  /** Every transaction ever begun must now have a definite status that matches what was told. */
  private void checkFinalAnswers() {
    for (TxId tx : begun) {
      io.decree.core.Answer[] result = {null};
      for (int attempt = 0;
          attempt < 20 && (result[0] == null || !result[0].outcome().definite());
          attempt++) {
        long callId = nextCallId();
        registerCall(
            callId,
            "checker",
            reply -> {
              if (reply instanceof ClientReply.Answered a) {
                result[0] = a.answer();
              }
            });
        coordinator.askStatus(callId, tx); // false if nobody leads at this moment: try later
        runUntil(now() + 200);
        if (result[0] != null && result[0].reason().startsWith("forgotten")) {
          break; // an honest answer after the retention window
        }
      }
      checker.checkFinalAnswer(
          tx, result[0] == null ? io.decree.core.Answer.unknown(tx, "no answer") : result[0]);
    }
  }

  private void scheduleFaults() {
    scheduler.after(
        10,
        () -> {
          if (!faulty) {
            return;
          }
          if (random.nextDouble() < options.crashRate()) {
            crashRandomNode();
          }
          // Own random source, no events of its own: a run without a forced branch is the same
          // run as before the operator existed.
          if (operatorRandom.nextDouble() < options.operatorRate()) {
            operatorForcesABranch();
          }
          if (random.nextDouble() < options.partitionRate() && participants.size() > 0) {
            String a = coordinator.partitionTarget();
            String b = participants.get(random.nextInt(participants.size())).ref.name();
            network.partition(a, b);
            scheduler.after(100 + random.nextInt(2_000), network::reconnectAll);
          }
          scheduleFaults();
        });
  }

  /**
   * Now and then an operator forces a random in-doubt branch, as {@code decree admin txn resolve}
   * would: only when the coordinator's synced log holds no other decision and no participant
   * applied the other outcome (the CLI refuses otherwise). The coordinator may still decide the
   * other way later (it was down, or the decision was not yet synced): that is the heuristic-mixed
   * outcome the checker demands be reported as an alarm.
   */
  /**
   * Now and then an operator forces a random in-doubt branch, as {@code decree admin txn resolve}
   * would: only when the coordinator's synced log holds no other decision and no participant
   * applied the other outcome (the CLI refuses otherwise). The coordinator may still decide the
   * other way later (it was down, or the decision was not yet synced): that is the heuristic-mixed
   * outcome the checker demands be reported as an alarm.
   */
  private void operatorForcesABranch() {
    List<SimParticipant> inDoubt = new ArrayList<>();
    List<TxId> branches = new ArrayList<>();
    for (SimParticipant p : participants) {
      if (!p.up()) {
        continue;
      }
      for (BranchView v : p.core().list()) {
        if (v.state() == BranchState.PREPARED && v.heuristic() == null) {
          inDoubt.add(p);
          branches.add(v.txId());
        }
      }
    }
    if (inDoubt.isEmpty()) {
      return;
    }
    int pick = operatorRandom.nextInt(inDoubt.size());
    SimParticipant at = inDoubt.get(pick);
    TxId tx = branches.get(pick);
    Decision decision = operatorRandom.nextBoolean() ? Decision.COMMIT : Decision.ABORT;
    Decision logged = coordinator.syncedDecision(tx);
    Decision other = decision == Decision.COMMIT ? Decision.ABORT : Decision.COMMIT;
    if ((logged != null && logged != decision) || checker.someoneApplied(tx, other)) {
      trace("operator refused to force " + decision + " at " + at.ref.name() + " for " + tx);
      return;
    }
    trace("OPERATOR forces " + decision + " at " + at.ref.name() + " for " + tx);
    checker.onForced(at.ref.name(), tx, decision);
    at.onOperatorDecision(tx, decision);
  }

  private void crashRandomNode() {
    int pick =
        random.nextDouble() < options.coordinatorCrashShare()
            ? participants.size()
            : random.nextInt(participants.size());
    long downMillis = 50 + random.nextInt(1_500);
    crashes++;
    if (pick == participants.size()) {
      coordinator.crash(downMillis);
    } else {
      SimParticipant p = participants.get(pick);
      if (p.up()) {
        p.crash();
        scheduler.after(
            downMillis,
            () -> {
              if (!p.up()) {
                p.start();
              }
            });
      }
    }
  }

  // ---------------------------------------------------------------- plumbing for the nodes

  long now() {
    return scheduler.now();
  }

  Scheduler scheduler() {
    return scheduler;
  }

  Random random() {
    return random;
  }

  SimOptions options() {
    return options;
  }

  Checker checker() {
    return checker;
  }

  /**
   * TEST ONLY: participants' checkpoints leave prepared branches out (a broken checkpoint writer),
   * which the invariants must catch once a crash makes recovery rely on one.
   */
  Simulation withCheckpointsLosingPreparedBranches() {
    checkpointsWithoutPrepared = true;
    return this;
  }

  boolean checkpointsWithoutPrepared() {
    return checkpointsWithoutPrepared;
  }

  /**
   * TEST ONLY: clients that name participants in their commit leave one out, the bug a client
   * library would have if it committed without every participant's answer. The checker must catch
   * it.
   */
  Simulation withClientsForgettingAParticipant() {
    clientsForgetAParticipant = true;
    return this;
  }

  boolean clientsForgetAParticipant() {
    return clientsForgetAParticipant;
  }

  /**
   * TEST ONLY: clients that began a transaction naming participants at commit send a commit that
   * does not say it names them (another process committing it, say). The coordinator must abort
   * those, so every invariant still holds.
   */
  Simulation withClientsCommittingWithoutNaming() {
    clientsCommitWithoutNaming = true;
    return this;
  }

  boolean clientsCommitWithoutNaming() {
    return clientsCommitWithoutNaming;
  }

  boolean faulty() {
    return faulty;
  }

  List<SimParticipant> participants() {
    return participants;
  }

  long nextCallId() {
    return ++nextCallId;
  }

  void began(TxId txId) {
    begun.add(txId);
  }

  void registerCall(long callId, String caller, Consumer<ClientReply> replyTo) {
    calls.put(callId, replyTo);
    callers.put(callId, caller);
  }

  /** A coordinator reply travels back over the network (from {@code from}) to whoever called. */
  void reply(String from, long callId, ClientReply body) {
    Consumer<ClientReply> target = calls.remove(callId);
    String caller = callers.remove(callId);
    if (target == null) {
      return;
    }
    trace(from + " replies to " + caller + ": " + body);
    if (body instanceof ClientReply.Enlisted e) {
      checker.onEnlisted(e.txId(), caller);
    }
    if ("checker".equals(caller)) {
      target.accept(body);
      return;
    }
    network.send(from, caller, body, target);
  }

  void sendMessageToCoordinator(String from, Message message) {
    coordinator.message(from, message);
  }

  /** A call to the coordinator (in a cluster, to whichever member the caller thinks leads). */
  void callCoordinator(
      String caller,
      Consumer<io.decree.core.coordinator.CoordinatorCore> input,
      long callId,
      Consumer<ClientReply> replyTo) {
    coordinator.call(caller, input, callId, replyTo);
  }

  /** The caller heard nothing back from the coordinator in time. */
  void coordinatorSilent(String caller) {
    coordinator.suspect(caller);
  }

  SimNetwork network() {
    return network;
  }

  SimParticipant participant(String name) {
    return byName.get(name);
  }

  void sendToParticipant(String from, String to, Message message) {
    SimParticipant p = byName.get(to);
    trace(from + " -> " + to + ": " + message);
    network.send(
        from,
        to,
        message,
        m -> {
          trace(to + " <- " + from + ": " + m);
          if (m instanceof Message.OutcomeReply r
              && r.outcome().definite()
              && !(r.from() instanceof io.decree.core.Peer.Coordinator)) {
            peerAnswers++; // cooperative termination at work
          }
          p.onMessage(m);
        });
  }

  /** With -Ddecree.sim.trace=true, prints every protocol event; for replaying one seed. */
  private static final boolean TRACE = Boolean.getBoolean("decree.sim.trace");

  void trace(String line) {
    if (TRACE) {
      System.out.println(scheduler.now() % 1_000_000 + " " + line);
    }
  }

  void sendToParticipantCall(String from, SimParticipant to, Runnable call) {
    network.send(from, to.ref.name(), call, Runnable::run);
  }

  void sendToClient(String from, String client, Runnable deliver) {
    network.send(from, client, deliver, Runnable::run);
  }
}
