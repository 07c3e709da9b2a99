package io.decree.jepsen.check;

import io.decree.jepsen.history.Op;
import java.util.List;
import java.util.Map;

/**
 * What the checkers judge: the history and what the harness learned after the recovery window.
 *
 * @param history every line of the run
 * @param branchStates per participant, per transaction id, the branch state the participant holds
 *     after the final restart (rebuilt from its write-ahead log); null when it could not be read
 * @param inDoubtAfterRecovery per participant, the in-doubt branches left after the recovery window
 *     ("tx state waiting-for"); null for a participant that could not be asked
 * @param finalRead per participant, every key and value read at the end; null if no read succeeded
 * @param bankTotal the money in the bank workload (opening balances), or -1 for other workloads
 * @param decisions per transaction id seen in {@code branchStates}, the decision the coordinator
 *     logged (COMMITTED or ABORTED), for those it still holds
 */
public record RunFacts(
    List<Op> history,
    Map<String, Map<String, String>> branchStates,
    Map<String, List<String>> inDoubtAfterRecovery,
    Map<String, Map<String, Long>> finalRead,
    long bankTotal,
    Map<String, String> decisions) {

  public RunFacts {
    decisions = decisions == null ? Map.of() : decisions;
  }

  /** Without the coordinator's decisions (checkers that do not need them). */
  public RunFacts(
      List<Op> history,
      Map<String, Map<String, String>> branchStates,
      Map<String, List<String>> inDoubtAfterRecovery,
      Map<String, Map<String, Long>> finalRead,
      long bankTotal) {
    this(history, branchStates, inDoubtAfterRecovery, finalRead, bankTotal, Map.of());
  }
}
