package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.Peer;
import io.decree.core.Send;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorEffects;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * One coordinator member of a {@link SimCluster}, driven as the cluster driver of docs/cluster.md
 * drives a real one: a follower has no core; on becoming a ready leader it builds a fresh core from
 * the replicated state ({@code onRecover}, issuer = the term); when it notices it lost leadership
 * it calls {@code onLeadershipLost} and drops the core. Until it notices, a deposed leader runs its
 * core as before; its appends carry its old term and are fenced. Results of appends reach only the
 * core instance that made them.
 */
final class SimMember {
  /** A record waiting for its group commit, with the core (epoch) and term that appended it. */
  record Waiting(CoordinatorRecord record, int epoch, long term, Consumer<AppendResult> onResult) {}

  /** What the replicated log says about one appended record. */
  record AppendResult(boolean ok, DecisionRecord winner, String error) {
    static AppendResult failed(String error) {
      return new AppendResult(false, null, error);
    }
  }

  final String name;
  final int index;
  private final Simulation sim;
  private final SimCluster cluster;

  /** Records wait here for the member's group commit; a sync hands the batch to the Raft layer. */
  private final SimDisk<CoordinatorRecord> outbox = new SimDisk<>();

  private final SimGroupCommit<CoordinatorRecord> group;
  private final List<Waiting> waiting = new ArrayList<>();

  /** This member's state machine: the committed entries it has applied so far. */
  final SimDecisionState state = new SimDecisionState();

  int applied;
  boolean up = true;
  private CoordinatorCore core;
  private long coreTerm;

  /** Bumped whenever the core is replaced or dropped: results for an older core are discarded. */
  private int epoch;

  SimMember(Simulation sim, SimCluster cluster, int index) {
    this.sim = sim;
    this.cluster = cluster;
    this.index = index;
    this.name = "m" + index;
    this.group = new SimGroupCommit<>(sim, outbox, this::onGroupSync, this::flush);
  }

  CoordinatorCore core() {
    return core;
  }

  /** The term this member's core leads (or led, if deposed and not noticed yet). */
  long coreTerm() {
    return coreTerm;
  }

  // ---------------------------------------------------------------- leadership

  /** Ready leader of {@code term}: a fresh core, rebuilt from what this member has applied. */
  void becomeLeader(long term, List<CoordinatorRecord> recovery) {
    if (core != null) {
      loseLeadership("re-elected"); // a core never spans two terms
    }
    epoch++;
    coreTerm = term;
    core = new CoordinatorCore(sim.options().coordinator(), (int) term);
    sim.trace(name + " LEADS term " + term + " (recovers " + recovery.size() + " records)");
    core.onRecover(recovery, sim.now());
    flush();
    scheduleTick(epoch);
  }

  /** This member noticed it no longer leads: callers hear UNKNOWN and the core is dropped. */
  void loseLeadership(String why) {
    if (core == null) {
      return;
    }
    sim.trace(name + " STEPS DOWN from term " + coreTerm + ": " + why);
    core.onLeadershipLost(sim.now());
    flush();
    core = null;
    epoch++;
  }

  void crash() {
    sim.trace(name + " CRASH");
    up = false;
    core = null;
    epoch++;
    group.crash();
    waiting.clear();
  }

  void restart() {
    sim.trace(name + " RESTART (follower)");
    up = true;
  }

  /** Applies committed entries up to {@code index} (exclusive), in order. */
  void catchUp(List<SimCluster.Entry> log, int upTo) {
    while (applied < Math.min(upTo, log.size())) {
      for (Waiting w : log.get(applied).records()) {
        state.apply(w.record());
      }
      applied++;
    }
  }

  // ---------------------------------------------------------------- inputs

  void onCall(
      String caller, Consumer<CoordinatorCore> input, long callId, Consumer<ClientReply> replyTo) {
    if (!up) {
      return;
    }
    if (core == null) {
      cluster.notLeader(
          this,
          caller,
          () ->
              replyTo.accept(
                  new ClientReply.Rejected(
                      ClientReply.Rejection.UNAVAILABLE, name + " is not the coordinator leader")));
      return;
    }
    sim.registerCall(callId, caller, replyTo);
    input.accept(core);
    flush();
  }

  void onMessage(String from, Message message) {
    if (!up) {
      return;
    }
    if (core != null) {
      core.onMessage(message, sim.now());
      flush();
      if (message instanceof Message.Ack a) {
        sim.checker()
            .checkCoordinatorAlarm(core, a.txId(), a.from().name(), a.decision(), sim.now());
      } else if (message instanceof Message.Inquiry i && i.heuristic() != null) {
        sim.checker()
            .checkCoordinatorAlarm(core, i.txId(), i.from().name(), i.heuristic(), sim.now());
      }
      return;
    }
    if (message instanceof Message.Inquiry inquiry) {
      // A follower answers only from a decision it has applied (a fact that never changes);
      // anything else is the leader's to answer.
      DecisionRecord d = state.decision(inquiry.txId());
      if (d != null) {
        Outcome outcome = d.decision() == Decision.COMMIT ? Outcome.COMMITTED : Outcome.ABORTED;
        sim.sendToParticipant(
            name,
            from,
            new Message.OutcomeReply(inquiry.txId(), Peer.COORDINATOR, outcome, "read at " + name));
      } else {
        cluster.notLeader(
            this,
            from,
            () ->
                sim.participant(from)
                    .onCoordinatorUnavailable(
                        inquiry.txId(), "UNAVAILABLE: " + name + " is not the coordinator leader"));
      }
    }
    // Votes, acks and one-phase results answer a request this member's old core sent: dropped.
  }

  // ---------------------------------------------------------------- effects

  void flush() {
    if (core == null) {
      return;
    }
    CoordinatorEffects effects = core.drain();
    for (CoordinatorRecord record : effects.appends()) {
      append(record);
    }
    for (Send send : effects.sends()) {
      ParticipantRef to = (ParticipantRef) send.to();
      cluster.noteAsked(this, to.name(), send.message());
      sim.sendToParticipant(name, to.name(), send.message());
    }
    for (CoordinatorEffects.Reply reply : effects.replies()) {
      sim.reply(name, reply.callId(), reply.body());
    }
  }

  private void append(CoordinatorRecord record) {
    int forEpoch = epoch;
    Consumer<AppendResult> onResult;
    if (record instanceof DecisionRecord d) {
      sim.checker().onCoordinatorProposes(d);
      onResult =
          r -> {
            if (epoch != forEpoch || core == null) {
              return;
            }
            if (r.ok()) {
              core.onDecisionDurable(r.winner(), sim.now());
            } else {
              core.onDecisionAppendFailed(d.txId(), r.error(), sim.now());
            }
          };
    } else if (record instanceof OnePhaseRecord o) {
      onResult =
          r -> {
            if (epoch != forEpoch || core == null) {
              return;
            }
            if (r.ok()) {
              core.onOnePhaseDurable(o.txId(), sim.now());
            } else {
              core.onOnePhaseAppendFailed(o.txId(), r.error(), sim.now());
            }
          };
    } else {
      onResult = r -> {}; // END and horizon: not waited for
    }
    waiting.add(new Waiting(record, forEpoch, coreTerm, onResult));
    group.append(record, ok -> {});
  }

  /**
   * The group commit went out: its records (the oldest {@code covered.size()} waiting) become one
   * Raft entry tagged with the term their core led. A failed local write fails them at once, but
   * the entry may still have reached the others.
   */
  private void onGroupSync(boolean ok, List<CoordinatorRecord> covered) {
    List<Waiting> batch = new ArrayList<>(waiting.subList(0, covered.size()));
    waiting.subList(0, covered.size()).clear();
    // Queued appends of a core that was dropped fail with it (LEADERSHIP_CHANGED), unsent.
    batch.removeIf(w -> w.epoch() != epoch);
    if (batch.isEmpty()) {
      return;
    }
    SimCluster.Entry entry = new SimCluster.Entry(batch.get(0).term(), this, batch);
    if (ok) {
      cluster.submit(entry);
    } else {
      cluster.answer(entry, AppendResult.failed("simulated append failure; may be durable"));
      if (sim.random().nextBoolean()) {
        cluster.submit(entry);
      }
    }
  }

  private void scheduleTick(int forEpoch) {
    sim.scheduler()
        .after(
            10,
            () -> {
              if (up && core != null && epoch == forEpoch) {
                core.onTick(sim.now());
                flush();
                scheduleTick(forEpoch);
              }
            });
  }
}
