package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.ParticipantRef;
import io.decree.core.Peer;
import io.decree.core.Send;
import io.decree.core.TxId;
import io.decree.core.Vote;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.participant.ParticipantCheckpoint;
import io.decree.core.participant.ParticipantCore;
import io.decree.core.participant.ParticipantEffects;
import io.decree.core.participant.ParticipantRecord;
import io.decree.core.participant.ResourceCall;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A participant's driver in the simulation: its core, its log on a simulated disk, and a toy
 * resource whose applied outcomes are the ground truth the checker judges.
 */
final class SimParticipant {
  private final Simulation sim;
  final ParticipantRef ref;

  /** A checkpoint every 20 ticks on average (200 simulated ms), so most runs cut their logs. */
  private static final double CHECKPOINT_PER_TICK = 0.05;

  private final SimDisk<ParticipantRecord> disk = new SimDisk<>();
  private final SimGroupCommit<ParticipantRecord> log;

  /** Work in memory (lost in a crash) and branches re-adopted from the log at recovery. */
  private final Set<TxId> work = new HashSet<>();

  private ParticipantCore core;
  private int incarnation;

  SimParticipant(Simulation sim, String name) {
    this.sim = sim;
    this.ref = new ParticipantRef(name, name + ":7000");
    this.log = new SimGroupCommit<>(sim, disk, this::afterSync, this::flush);
  }

  boolean up() {
    return core != null;
  }

  ParticipantCore core() {
    return core;
  }

  void start() {
    incarnation++;
    core = new ParticipantCore(ref, sim.options().participant());
    core.onRecover(
        new ParticipantCheckpoint(disk.horizon(), List.of()),
        List.copyOf(disk.synced()),
        sim.now());
    // The resource's own recovery: re-adopt what the log holds prepared.
    work.addAll(core.preparedBranches());
    flush();
    scheduleTick(incarnation);
  }

  void crash() {
    sim.trace(ref.name() + " CRASH");
    core = null;
    log.crash();
    work.clear();
  }

  /**
   * A client's business call: do work under {@code txId}, enlist, then answer the client. With a
   * {@code deadlineMillis} (> 0) the client enlists this participant itself, with its commit: the
   * work starts without asking the coordinator and the answer names this participant.
   */
  void onDoWork(TxId txId, String client, long deadlineMillis, Consumer<Boolean> done) {
    if (!up()) {
      return;
    }
    sim.trace(ref.name() + " work " + txId + " for " + client);
    if (!core.onWorkStarted(txId, sim.now())) {
      sim.sendToClient(ref.name(), client, () -> done.accept(false));
      return;
    }
    work.add(txId);
    if (deadlineMillis > 0) {
      core.onEnlisted(txId, deadlineMillis);
      // Ground truth for validity: this branch has work, so a COMMIT needs its YES.
      sim.checker().onEnlisted(txId, ref.name());
      if (sim.random().nextDouble() < sim.options().dropRate()) {
        // The call is cancelled before its answer leaves: the client hears a failure (and rolls
        // back); this side lets go of the branch at once.
        core.onWorkAbandoned(txId, sim.now());
        flush();
        sim.sendToClient(ref.name(), client, () -> done.accept(false));
        return;
      }
      sim.sendToClient(ref.name(), client, () -> done.accept(true));
    } else {
      enlist(txId, client, done, 3);
    }
  }

  /** {@code redirects}: how often a "not the leader" answer may send the enlist elsewhere. */
  private void enlist(TxId txId, String client, Consumer<Boolean> done, int redirects) {
    long callId = sim.nextCallId();
    sim.callCoordinator(
        ref.name(),
        core -> core.onEnlist(callId, txId, ref, sim.now()),
        callId,
        reply -> {
          if (up()
              && redirects > 0
              && reply instanceof ClientReply.Rejected r
              && r.kind() == ClientReply.Rejection.UNAVAILABLE) {
            enlist(txId, client, done, redirects - 1);
            return;
          }
          boolean ok = reply instanceof ClientReply.Enlisted;
          if (up() && reply instanceof ClientReply.Enlisted e) {
            core.onEnlisted(txId, e.deadlineMillis());
          }
          if (up()) {
            sim.sendToClient(ref.name(), client, () -> done.accept(ok));
          }
        });
  }

  /** A cluster member that does not lead refused an inquiry: the call failed. */
  void onCoordinatorUnavailable(TxId txId, String error) {
    if (!up()) {
      return;
    }
    // An answer all the same: the deadline must not also fire (and send us elsewhere again).
    lastCoordinatorAnswer.put(txId, sim.now());
    core.onSendFailed(txId, "coordinator", error, sim.now());
    flush();
  }

  /** An operator forces this branch's outcome (decree admin txn resolve). */
  void onOperatorDecision(TxId txId, Decision decision) {
    if (!up()) {
      return;
    }
    core.onOperatorDecision(txId, decision, "simulated operator", sim.now());
    flush();
  }

  void onMessage(Message message) {
    if (!up()) {
      return;
    }
    if (message instanceof Message.OutcomeReply r && r.from() instanceof Peer.Coordinator) {
      lastCoordinatorAnswer.put(r.txId(), sim.now());
    }
    core.onMessage(message, sim.now());
    flush();
  }

  /** When the coordinator last answered an inquiry, per transaction: models RPC deadlines. */
  private final java.util.Map<TxId, Long> lastCoordinatorAnswer = new java.util.HashMap<>();

  private static final long RPC_DEADLINE_MILLIS = 300;

  /** An inquiry is an RPC: without an answer by its deadline, the driver reports a failure. */
  private void expectAnswer(TxId txId) {
    long sentAt = sim.now();
    int forIncarnation = incarnation;
    sim.scheduler()
        .after(
            RPC_DEADLINE_MILLIS,
            () -> {
              if (up()
                  && incarnation == forIncarnation
                  && lastCoordinatorAnswer.getOrDefault(txId, -1L) < sentAt) {
                sim.coordinatorSilent(ref.name());
                core.onSendFailed(txId, "coordinator", "DEADLINE_EXCEEDED (simulated)", sim.now());
                flush();
              }
            });
  }

  private void scheduleTick(int forIncarnation) {
    sim.scheduler()
        .after(
            10,
            () -> {
              if (up() && incarnation == forIncarnation) {
                core.onTick(sim.now());
                flush();
                if (sim.random().nextDouble() < CHECKPOINT_PER_TICK) {
                  checkpoint();
                }
                scheduleTick(forIncarnation);
              }
            });
  }

  /**
   * Writes the core's checkpoint into the log, as the runtime does every so many records: once it
   * is durable, the records before it are gone, so recovery must work from the checkpoint alone.
   */
  private void checkpoint() {
    ParticipantCheckpoint checkpoint = core.checkpoint();
    List<ParticipantRecord> content = checkpoint.records();
    if (sim.checkpointsWithoutPrepared()) {
      // TEST ONLY: a checkpoint that leaves prepared branches out, which the simulation must catch.
      content =
          content.stream().filter(r -> !(r instanceof ParticipantRecord.PreparedRecord)).toList();
    }
    log.appendCheckpoint(content, checkpoint.forgottenBeforeMillis());
  }

  private void flush() {
    ParticipantEffects effects = core.drain();
    for (ParticipantRecord record : effects.appends()) {
      append(record);
    }
    for (Send send : effects.sends()) {
      if (send.to() instanceof Peer.Coordinator) {
        sim.sendMessageToCoordinator(ref.name(), send.message());
        if (send.message() instanceof Message.Inquiry inquiry) {
          expectAnswer(inquiry.txId());
        }
      } else {
        sim.sendToParticipant(ref.name(), ((ParticipantRef) send.to()).name(), send.message());
      }
    }
    for (ResourceCall call : effects.resourceCalls()) {
      int forIncarnation = incarnation;
      sim.scheduler()
          .after(
              sim.random().nextInt(3),
              () -> {
                if (up() && incarnation == forIncarnation) {
                  runResource(call);
                  flush();
                }
              });
    }
  }

  private void runResource(ResourceCall call) {
    TxId tx = call.txId();
    sim.trace(ref.name() + " resource " + call.getClass().getSimpleName() + " " + tx);
    if (call instanceof ResourceCall.Prepare) {
      Vote vote;
      if (!work.contains(tx)) {
        vote = Vote.NO;
      } else {
        double roll = sim.random().nextDouble();
        SimOptions o = sim.options();
        vote =
            roll < o.noVoteRate()
                ? Vote.NO
                : roll < o.noVoteRate() + o.readOnlyRate() ? Vote.READ_ONLY : Vote.YES;
      }
      if (vote == Vote.NO) {
        work.remove(tx);
        sim.checker().onApplied(ref.name(), tx, Decision.ABORT);
      } else if (vote == Vote.READ_ONLY) {
        sim.checker().onReadOnly(ref.name(), tx);
      }
      byte[] data = tx.toString().getBytes(StandardCharsets.UTF_8);
      core.onResourcePrepared(tx, vote, data, vote == Vote.NO ? "simulated NO" : "", sim.now());
    } else if (call instanceof ResourceCall.Commit) {
      work.remove(tx);
      sim.checker().onApplied(ref.name(), tx, Decision.COMMIT);
      core.onResourceApplied(tx, true, "", sim.now());
    } else if (call instanceof ResourceCall.Rollback) {
      if (work.remove(tx)) {
        sim.checker().onApplied(ref.name(), tx, Decision.ABORT);
      }
      core.onResourceApplied(tx, true, "", sim.now());
    }
  }

  private void append(ParticipantRecord record) {
    if (!record.awaitsDurability()) {
      log.appendLazily(record); // as the runtime's WAL does
      return;
    }
    int forIncarnation = incarnation;
    log.append(
        record,
        ok -> {
          if (incarnation != forIncarnation || core == null) {
            return;
          }
          if (ok) {
            core.onRecordDurable(record, sim.now());
          } else {
            core.onRecordFailed(record, "simulated sync failure", sim.now());
          }
        });
  }

  private void afterSync(boolean ok, List<ParticipantRecord> covered) {
    for (ParticipantRecord r : covered) {
      if (disk.synced().contains(r)) {
        noteDurable(r);
      }
    }
  }

  private void noteDurable(ParticipantRecord r) {
    if (r instanceof ParticipantRecord.PreparedRecord p) {
      sim.checker().onParticipantVoteDurable(ref.name(), p.txId());
    } else if (r instanceof ParticipantRecord.DecisionRecord d
        && d.onePhase()
        && d.decision() == Decision.COMMIT) {
      sim.checker().onParticipantOnePhaseCommitDurable(ref.name(), d.txId());
    }
  }
}
