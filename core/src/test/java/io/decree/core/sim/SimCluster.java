package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * A coordinator cluster over a replicated decision log, modelled at the level docs/cluster.md
 * promises (not Raft's messages): one totally ordered log of committed entries, each a batch from
 * one leader's core tagged with the term it led.
 *
 * <ul>
 *   <li>Elections happen at random steps, and when the leader is down or cut from a majority for an
 *       election timeout. Only a member that reaches a majority can win; the term goes up by one.
 *   <li>An entry commits only while its leader leads its term and reaches a majority. Entries left
 *       uncommitted when a new leader is elected are either committed in their own term (they were
 *       in the new leader's log; applied before it is ready) or dropped.
 *   <li>Term fencing: an entry from a core whose term is over is refused and its records fail.
 *   <li>An acknowledgement may be lost: the core hears a timeout for a durable record. An append
 *       that is not committed in time fails, and may still commit later.
 *   <li>The new leader becomes ready after applying every committed entry; then it builds a fresh
 *       core from its applied state. The deposed leader runs its old core until it notices, after a
 *       random delay.
 *   <li>Followers apply committed entries with a lag and answer an inquiry only from a decision
 *       they applied; calls to a member without a core are refused "not the leader", with a hint.
 * </ul>
 */
final class SimCluster implements CoordinatorSide {
  private static final long ELECTION_TIMEOUT_MILLIS = 300;

  /** One Raft entry: a group-commit batch of one core, tagged with the term that core led. */
  static final class Entry {
    private final long term;
    private final SimMember by;
    private final List<SimMember.Waiting> records;
    private boolean answered;

    Entry(long term, SimMember by, List<SimMember.Waiting> records) {
      this.term = term;
      this.by = by;
      this.records = List.copyOf(records);
    }

    List<SimMember.Waiting> records() {
      return records;
    }
  }

  private final Simulation sim;
  private final SimClusterOptions options;
  private final List<SimMember> members = new ArrayList<>();

  /** The committed entries, in log order: every member applies a prefix of this. */
  private final List<Entry> log = new ArrayList<>();

  /** The state at the commit index: what the leader's state machine answers appends with. */
  private final SimDecisionState state = new SimDecisionState();

  /** Entries in the current leader's log that are not committed yet. */
  private final List<Entry> uncommitted = new ArrayList<>();

  /** Whom each client or participant sends its calls to: its idea of the leader. */
  private final Map<String, Integer> belief = new HashMap<>();

  /** Which member last sent a participant a request about a transaction: its answers go there. */
  private final Map<String, SimMember> askedBy = new HashMap<>();

  private long term;
  private int leader = -1;
  private long troubleSinceMillis = -1;
  private int leaderChanges;
  private long fenced;

  SimCluster(Simulation sim) {
    this.sim = sim;
    this.options = sim.options().cluster();
    for (int i = 0; i < options.members(); i++) {
      members.add(new SimMember(sim, this, i));
    }
  }

  @Override
  public int leaderChanges() {
    return leaderChanges;
  }

  @Override
  public long fencedAppends() {
    return fenced;
  }

  // ---------------------------------------------------------------- lifecycle and faults

  @Override
  public void start() {
    elect("start");
    tick();
  }

  @Override
  public void heal() {
    for (SimMember m : members) {
      if (!m.up) {
        m.restart();
      }
    }
  }

  @Override
  public void crash(long downMillis) {
    SimMember m = members.get(sim.random().nextInt(members.size()));
    if (!m.up) {
      return;
    }
    m.crash();
    if (leader == m.index) {
      leader = -1; // it comes back as a follower; the others elect after a timeout
    }
    sim.scheduler()
        .after(
            downMillis,
            () -> {
              if (!m.up) {
                m.restart();
              }
            });
  }

  @Override
  public String partitionTarget() {
    return members.get(sim.random().nextInt(members.size())).name;
  }

  private void tick() {
    if (sim.faulty()) {
      if (sim.random().nextDouble() < options.electionRate()) {
        elect("election timeout (random)");
      }
      if (sim.random().nextDouble() < options.memberPartitionRate()) {
        isolateAMember();
      }
    }
    replicate();
    boolean healthy = leader >= 0 && reachesMajority(members.get(leader));
    if (healthy) {
      troubleSinceMillis = -1;
    } else if (troubleSinceMillis < 0) {
      troubleSinceMillis = sim.now();
    } else if (sim.now() - troubleSinceMillis >= ELECTION_TIMEOUT_MILLIS) {
      troubleSinceMillis = sim.now();
      elect(leader < 0 ? "no leader" : "leader cut from a majority");
    }
    sim.scheduler().after(10, this::tick);
  }

  private void isolateAMember() {
    SimMember cut = members.get(sim.random().nextInt(members.size()));
    sim.trace(cut.name + " CUT from the other members");
    for (SimMember other : members) {
      if (other != cut) {
        sim.network().partition(cut.name, other.name);
      }
    }
    sim.scheduler()
        .after(
            100 + sim.random().nextInt(2_000),
            () -> {
              for (SimMember other : members) {
                sim.network().reconnect(cut.name, other.name);
              }
            });
  }

  private boolean reachesMajority(SimMember m) {
    if (!m.up) {
      return false;
    }
    int reached = 1;
    for (SimMember other : members) {
      if (other != m
          && other.up
          && sim.network().connected(m.name, other.name)
          && sim.network().connected(other.name, m.name)) {
        reached++;
      }
    }
    return reached * 2 > members.size();
  }

  /** A new term with a new (or the same) leader, if some member reaches a majority. */
  private void elect(String why) {
    List<SimMember> candidates = new ArrayList<>();
    for (SimMember m : members) {
      if (reachesMajority(m)) {
        candidates.add(m);
      }
    }
    if (candidates.isEmpty()) {
      return;
    }
    SimMember next = candidates.get(sim.random().nextInt(candidates.size()));
    term++;
    leaderChanges++;
    sim.trace("ELECTION (" + why + "): " + next.name + " wins term " + term);
    // What the old leaders left uncommitted: some of it is in the new leader's log, which commits
    // it in its own (old) term before it is ready; the rest is gone. Their cores may never hear.
    for (Entry e : new ArrayList<>(uncommitted)) {
      if (sim.random().nextBoolean()) {
        commit(e);
      }
    }
    uncommitted.clear();
    leader = next.index;
    long newTerm = term;
    for (SimMember m : members) {
      if (m.core() != null && m.coreTerm() < newTerm) {
        if (m == next) {
          m.loseLeadership("elected again in term " + newTerm);
        } else {
          long ledTerm = m.coreTerm();
          sim.scheduler()
              .after(
                  sim.random().nextInt((int) options.noticeDelayMaxMillis() + 1),
                  () -> {
                    if (m.core() != null && m.coreTerm() == ledTerm) {
                      m.loseLeadership("a higher term " + newTerm + " exists");
                    }
                  });
        }
      }
    }
    sim.scheduler()
        .after(
            5 + sim.random().nextInt(25),
            () -> {
              if (leader != next.index || term != newTerm || !next.up) {
                return;
              }
              if (!options.unsafeRecoverStalePrefix()) {
                next.catchUp(log, log.size()); // ready = applied every earlier term's entries
              }
              next.becomeLeader(newTerm, next.state.recoveryRecords());
              next.catchUp(log, log.size());
            });
  }

  // ---------------------------------------------------------------- the replicated log

  /** A member's group commit hands over a batch. */
  void submit(Entry entry) {
    if (entry.term != term || leader != entry.by.index) {
      if (options.unsafeNoTermFencing() && leader >= 0 && reachesMajority(members.get(leader))) {
        // TEST ONLY: the client retried to the new leader, and the entry lands in its term.
        commit(entry);
        return;
      }
      fenced++;
      sim.trace(entry.by.name + " append FENCED (term " + entry.term + ", now " + term + ")");
      answerLater(
          entry,
          SimMember.AppendResult.failed(
              "LEADERSHIP_CHANGED: the entry of term " + entry.term + " landed in term " + term));
      return;
    }
    uncommitted.add(entry);
    sim.scheduler().after(1 + sim.random().nextInt(8), this::replicate);
    sim.scheduler()
        .after(
            options.appendTimeoutMillis(),
            () ->
                answer(
                    entry,
                    SimMember.AppendResult.failed(
                        "NO_QUORUM: not acknowledged in "
                            + options.appendTimeoutMillis()
                            + " ms; the record may or may not be durable")));
  }

  /** The leader reaches a majority: its uncommitted entries commit, in order. */
  private void replicate() {
    if (leader < 0 || uncommitted.isEmpty() || !reachesMajority(members.get(leader))) {
      return;
    }
    for (Entry e : new ArrayList<>(uncommitted)) {
      if (e.term == term && e.by.index == leader) {
        uncommitted.remove(e);
        commit(e);
      }
    }
  }

  private void commit(Entry entry) {
    log.add(entry);
    int index = log.size();
    List<SimMember.AppendResult> results = new ArrayList<>();
    for (SimMember.Waiting w : entry.records) {
      SimDecisionState.Applied applied = state.apply(w.record());
      if (w.record() instanceof DecisionRecord d) {
        if (applied.refused()) {
          results.add(
              SimMember.AppendResult.failed("forgotten: " + d.txId() + " is below the horizon"));
        } else {
          if (applied.winner() == d) {
            sim.checker().onCoordinatorDurable(d);
          }
          results.add(new SimMember.AppendResult(true, applied.winner(), ""));
        }
      } else {
        results.add(new SimMember.AppendResult(true, null, ""));
      }
    }
    sim.trace(
        "COMMITTED entry " + index + " (term " + entry.term + ", from " + entry.by.name + ")");
    for (SimMember m : members) {
      sim.scheduler()
          .after(
              1 + sim.random().nextInt(options.applyLagMaxMillis()),
              () -> {
                if (m.up) {
                  m.catchUp(log, index);
                }
              });
    }
    if (!entry.answered && sim.random().nextDouble() >= options.ackLossRate()) {
      sim.scheduler().after(1 + sim.random().nextInt(5), () -> answer(entry, results));
    }
  }

  private void answerLater(Entry entry, SimMember.AppendResult result) {
    sim.scheduler().after(1 + sim.random().nextInt(5), () -> answer(entry, result));
  }

  /** The entry's records hear one result each (once; a later result is dropped). */
  void answer(Entry entry, SimMember.AppendResult result) {
    List<SimMember.AppendResult> all = new ArrayList<>();
    entry.records.forEach(w -> all.add(result));
    answer(entry, all);
  }

  private void answer(Entry entry, List<SimMember.AppendResult> results) {
    if (entry.answered) {
      return;
    }
    entry.answered = true;
    for (int i = 0; i < entry.records.size(); i++) {
      entry.records.get(i).onResult().accept(results.get(i));
    }
    entry.by.flush();
  }

  // ---------------------------------------------------------------- routing

  private SimMember target(String caller) {
    return members.get(belief.getOrDefault(caller, 0));
  }

  @Override
  public void call(
      String caller, Consumer<CoordinatorCore> input, long callId, Consumer<ClientReply> replyTo) {
    SimMember m = target(caller);
    sim.network().send(caller, m.name, input, in -> m.onCall(caller, in, callId, replyTo));
  }

  @Override
  public void message(String from, Message message) {
    SimMember m = target(from);
    if (message instanceof Message.VoteReply
        || message instanceof Message.Ack
        || message instanceof Message.OnePhaseResult
        || message instanceof Message.OutcomeReply) {
      // The answer to a request goes back to the member that sent it.
      m = askedBy.getOrDefault(from + "|" + message.txId(), m);
    }
    SimMember to = m;
    sim.trace(from + " -> " + to.name + ": " + message);
    sim.network()
        .send(
            from,
            to.name,
            message,
            msg -> {
              sim.trace(to.name + " <- " + from + ": " + msg);
              to.onMessage(from, msg);
            });
  }

  void noteAsked(SimMember by, String participant, Message message) {
    askedBy.put(participant + "|" + message.txId(), by);
  }

  /**
   * {@code member} has no core: it answers "not the leader" with a hint (the leader it can reach),
   * and the caller sends there next, or to another member when there is no hint.
   */
  void notLeader(SimMember member, String caller, Runnable deliver) {
    int hint =
        leader >= 0
                && leader != member.index
                && members.get(leader).up
                && sim.network().connected(member.name, members.get(leader).name)
            ? leader
            : -1;
    sim.network()
        .send(
            member.name,
            caller,
            hint,
            h -> {
              belief.put(
                  caller, h >= 0 ? h : (belief.getOrDefault(caller, 0) + 1) % members.size());
              deliver.run();
            });
  }

  @Override
  public void suspect(String caller) {
    belief.put(caller, (belief.getOrDefault(caller, 0) + 1) % members.size());
  }

  @Override
  public boolean askStatus(long callId, TxId txId) {
    if (leader < 0) {
      return false;
    }
    SimMember m = members.get(leader);
    if (!m.up || m.core() == null || m.coreTerm() != term) {
      return false;
    }
    m.core().onStatus(callId, txId, sim.now());
    m.flush();
    return true;
  }

  @Override
  public Decision syncedDecision(TxId txId) {
    DecisionRecord d = state.decision(txId);
    return d == null ? null : d.decision();
  }
}
