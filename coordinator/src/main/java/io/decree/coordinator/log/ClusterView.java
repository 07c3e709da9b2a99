package io.decree.coordinator.log;

import java.util.List;
import java.util.Optional;

/**
 * One member's view of the coordinator cluster, for operators.
 *
 * @param members every member in the current configuration, with its Raft address
 * @param currentTerm the Raft term this member is in (whether or not it leads)
 * @param lastAppliedIndex the last log entry this member applied
 * @param logStartIndex the first entry still in its log (later than 0 once purged after a snapshot)
 * @param lastLogTerm the term of the last entry in its log (written, perhaps not committed)
 * @param lastLogIndex the index of that entry
 */
public record ClusterView(
    String memberId,
    Optional<String> leaderId,
    long currentTerm,
    boolean leading,
    List<Member> members,
    long lastAppliedIndex,
    long logStartIndex,
    long lastLogTerm,
    long lastLogIndex) {

  /** A member and the address its peers replicate to. */
  public record Member(String id, String raftAddress) {}

  public ClusterView {
    members = List.copyOf(members);
  }
}
