package io.decree.core.sim;

import io.decree.core.Answer;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * A client running transactions one after another: begin, work at 1..3 participants (each enlists),
 * then commit, or rollback if any work failed. Lost replies become timeouts; an UNKNOWN or a
 * timed-out commit is followed by status queries, as a real client would.
 */
final class SimClient {
  private static final long CALL_TIMEOUT_MILLIS = 400;
  private static final int STATUS_POLLS_MAX = 6;

  private final Simulation sim;
  private final String name;
  private int remaining;
  private int attempt;

  /** Bumped per step, so a reply or timeout for an older step is ignored. */
  private long step;

  SimClient(Simulation sim, String name, int transactions) {
    this.sim = sim;
    this.name = name;
    this.remaining = transactions;
  }

  void start() {
    next();
  }

  private void next() {
    if (remaining-- <= 0 || !sim.faulty()) {
      return;
    }
    attempt = 0;
    begin(name + "-" + remaining);
  }

  private void begin(String key) {
    long myStep = ++step;
    long callId = sim.nextCallId();
    // Half the transactions enlist on the way back: the participants named by the commit.
    boolean onTheWayBack = sim.random().nextBoolean();
    sim.callCoordinator(
        name,
        core -> core.onBegin(callId, key, 2_000, onTheWayBack, sim.now()),
        callId,
        reply -> {
          if (step != myStep) {
            return;
          }
          if (reply instanceof ClientReply.Began began) {
            sim.began(began.txId());
            work(began.txId(), onTheWayBack ? began.deadlineMillis() : 0);
          } else if (notLeader(reply) && ++attempt < 5) {
            begin(key); // a cluster member that does not lead; the caller now asks another
          } else {
            step++;
            next();
          }
        });
    timeout(
        myStep,
        () -> {
          sim.coordinatorSilent(name);
          if (++attempt < 3) {
            begin(key); // same key: the coordinator returns the same transaction
          } else {
            next();
          }
        });
  }

  /**
   * With {@code deadlineMillis} 0 the participants enlist the old way (each asks the coordinator
   * before its work); otherwise on the way back: each participant names itself in its answer and
   * the commit carries the names, so the coordinator first hears of them at commit.
   */
  private void work(TxId txId, long deadlineMillis) {
    long myStep = ++step;
    boolean onTheWayBack = deadlineMillis > 0;
    List<SimParticipant> chosen = new ArrayList<>(sim.participants());
    Collections.shuffle(chosen, sim.random());
    int count = 1 + sim.random().nextInt(Math.min(3, chosen.size()));
    // A set, not a counter: the network may deliver a work call (and its answer) twice.
    java.util.Set<String> pending = new java.util.HashSet<>();
    chosen.subList(0, count).forEach(p -> pending.add(p.ref.name()));
    List<ParticipantRef> joined = new ArrayList<>();
    boolean[] failed = {false};
    for (SimParticipant p : chosen.subList(0, count)) {
      sim.sendToParticipantCall(
          name,
          p,
          () ->
              p.onDoWork(
                  txId,
                  name,
                  deadlineMillis,
                  ok -> {
                    if (step != myStep) {
                      return;
                    }
                    failed[0] |= !ok;
                    if (pending.remove(p.ref.name())) {
                      joined.add(p.ref);
                      if (pending.isEmpty()) {
                        if (failed[0]) {
                          rollback(txId);
                        } else if (onTheWayBack) {
                          commit(txId, joined);
                        } else {
                          commit(txId);
                        }
                      }
                    }
                  }));
    }
    timeout(myStep, () -> rollback(txId));
  }

  private void commit(TxId txId, List<ParticipantRef> joined) {
    sim.trace(name + " commit " + txId + " naming " + joined);
    List<ParticipantRef> named =
        sim.clientsForgetAParticipant() && joined.size() > 1
            ? List.copyOf(joined.subList(1, joined.size()))
            : List.copyOf(joined);
    boolean naming = !sim.clientsCommitWithoutNaming();
    decide(txId, (core, callId) -> core.onCommit(callId, txId, named, naming, false, sim.now()));
  }

  private void commit(TxId txId) {
    sim.trace(name + " commit " + txId);
    decide(txId, (core, callId) -> core.onCommit(callId, txId, false, sim.now()));
  }

  private void rollback(TxId txId) {
    sim.trace(name + " rollback " + txId);
    decide(txId, (core, callId) -> core.onRollback(callId, txId, sim.now()));
  }

  /** Sends commit or rollback; a lost answer is followed by status queries. */
  private void decide(
      TxId txId,
      java.util.function.BiConsumer<io.decree.core.coordinator.CoordinatorCore, Long> call) {
    decide(txId, call, 3);
  }

  /** {@code redirects}: how often a "not the leader" answer may send the call elsewhere. */
  private void decide(
      TxId txId,
      java.util.function.BiConsumer<io.decree.core.coordinator.CoordinatorCore, Long> call,
      int redirects) {
    long myStep = ++step;
    long callId = sim.nextCallId();
    sim.callCoordinator(
        name,
        core -> call.accept(core, callId),
        callId,
        reply -> {
          if (step == myStep && redirects > 0 && notLeader(reply)) {
            decide(txId, call, redirects - 1);
          } else {
            answered(myStep, txId, reply, 0);
          }
        });
    timeout(
        myStep,
        () -> {
          sim.coordinatorSilent(name);
          status(txId, 0);
        });
  }

  /** A cluster member that does not lead answers UNAVAILABLE (one coordinator never does). */
  private static boolean notLeader(ClientReply reply) {
    return reply instanceof ClientReply.Rejected r && r.kind() == ClientReply.Rejection.UNAVAILABLE;
  }

  private void status(TxId txId, int polls) {
    if (polls >= STATUS_POLLS_MAX) {
      step++;
      next();
      return;
    }
    long myStep = ++step;
    long callId = sim.nextCallId();
    sim.callCoordinator(
        name,
        core -> core.onStatus(callId, txId, sim.now()),
        callId,
        reply -> answered(myStep, txId, reply, polls + 1));
    timeout(
        myStep,
        () -> {
          sim.coordinatorSilent(name);
          status(txId, polls + 1);
        });
  }

  private void answered(long myStep, TxId txId, ClientReply reply, int polls) {
    if (step != myStep) {
      return;
    }
    if (reply instanceof ClientReply.Answered a) {
      Answer answer = a.answer();
      sim.checker().onClientAnswer(txId, answer.outcome(), answer.reason());
      if (answer.outcome().definite()) {
        step++;
        next();
        return;
      }
    }
    long waitStep = ++step;
    sim.scheduler()
        .after(
            CALL_TIMEOUT_MILLIS / 2,
            () -> {
              if (step == waitStep) {
                status(txId, polls);
              }
            });
  }

  private void timeout(long myStep, Runnable onTimeout) {
    sim.scheduler()
        .after(
            CALL_TIMEOUT_MILLIS + sim.random().nextInt(200),
            () -> {
              if (step == myStep) {
                onTimeout.run();
              }
            });
  }
}
