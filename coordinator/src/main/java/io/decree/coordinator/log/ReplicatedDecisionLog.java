package io.decree.coordinator.log;

import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * A decision log that several coordinator members share; only its current leader runs a protocol
 * core over it. The coordinator node builds a fresh core from {@link #recover()} each time this
 * member starts to lead, and drops it when it stops.
 *
 * <p>Appends are fenced by term: a record appended while this member led an earlier term is never
 * applied after a later leader recovered, so a deposed core cannot add to what the next one knows.
 */
public interface ReplicatedDecisionLog extends DecisionLog {

  /** This member's id in the cluster. */
  String memberId();

  /**
   * Hears {@code true} once this member leads and has applied every earlier entry (so {@link
   * #recover()} is the whole log), {@code false} as soon as it stops. Calls come in order on one
   * thread; {@code false} always separates two {@code true}s.
   */
  void onLeadershipChange(Consumer<Boolean> listener);

  /** The term this member leads, 0 when it does not. Terms only grow: a fresh id issuer each. */
  long leaderTerm();

  /**
   * Appends like {@link #appendDecision(CoordinatorRecord.DecisionRecord)}, but only as the leader
   * of {@code term}: fails at once when this member does not lead that term, and the record is
   * never applied in another term. A core appends with the term it was built for.
   */
  CompletableFuture<CoordinatorRecord.DecisionRecord> appendDecision(
      CoordinatorRecord.DecisionRecord decision, long term);

  /** Appends like {@link #append(CoordinatorRecord)}, only as the leader of {@code term}. */
  CompletableFuture<Void> append(CoordinatorRecord record, long term);

  /** The member that leads, as far as this one knows. */
  Optional<String> leaderId();

  /** The latest term this member knows of, whether it leads it or not. */
  long currentTerm();

  /**
   * Starts an election now instead of after the election timeout, if this member still follows
   * {@code goneLeaderId} in {@code term}: for a leader known to be gone (its process refuses
   * connections). Safe at any time: the other members still vote only for a log at least as current
   * as theirs, and a needless election only costs a term.
   *
   * @return true when this member became a candidate; false when it does not follow that leader in
   *     that term (any more), or its log does not end in that term yet
   */
  boolean startElectionNow(String goneLeaderId, long term);

  /**
   * The decision log's answer for one transaction, linearizable: it reflects every append
   * acknowledged before the read began, whichever member serves it.
   */
  CompletableFuture<DecisionStatus> readDecision(TxId txId);

  /** Facts for operators: members, leader, term, log indexes. */
  ClusterView view();

  /** Adds a member (it catches up from the log or a snapshot); blocks until committed. */
  void addMember(String memberId, String raftAddress);

  /** Removes a member; blocks until committed. */
  void removeMember(String memberId);

  /** Writes a snapshot of the applied state now; returns its log index. */
  long takeSnapshot();
}
