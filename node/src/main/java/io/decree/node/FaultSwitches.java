package io.decree.node;

import io.decree.core.participant.ParticipantConfig;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TEST ONLY: switches that make a node misbehave at one exact point, so process-level tests can
 * reach states that timing alone reaches rarely (a crash between the decision and phase 2, a slow
 * prepare, a participant that never hears phase 2). Read once from system properties {@code
 * decree.fault.*}; all off unless set, and loudly logged when on.
 */
public final class FaultSwitches {
  private static final Logger log = LoggerFactory.getLogger(FaultSwitches.class);

  /**
   * The coordinator halts (as kill -9 would) once a decision is durable, before anyone hears it.
   */
  public static final boolean HALT_AFTER_DECISION =
      Boolean.getBoolean("decree.fault.coordinator.haltAfterDecision");

  /**
   * A participant's resource takes this long to prepare a branch it votes YES on (reads, which vote
   * READ_ONLY, stay fast, so a harness's final read is not held up).
   */
  public static final long PREPARE_DELAY_MILLIS =
      Long.getLong("decree.fault.participant.prepareDelayMillis", 0);

  /**
   * A participant refuses phase-2 calls from the coordinator (it must learn the outcome another
   * way).
   */
  public static final boolean IGNORE_PHASE_TWO =
      Boolean.getBoolean("decree.fault.participant.ignorePhaseTwo");

  /**
   * A participant refuses phase-2 calls and discards every answer about a decision (from the
   * coordinator or a peer): its prepared branches stay in doubt while the coordinator is up, so an
   * admin test can watch a blocked transaction and an operator's resolve.
   */
  public static final boolean IGNORE_DECISIONS =
      Boolean.getBoolean("decree.fault.participant.ignoreDecisions");

  /**
   * BREAKS THE PROTOCOL: the coordinator answers clients and sends phase 2 before its decision is
   * durable. Used to prove that the Jepsen-style checkers catch a lost decision.
   */
  public static final boolean COORDINATOR_UNSAFE_SEND_BEFORE_DURABLE =
      Boolean.getBoolean("decree.fault.coordinator.unsafeSendBeforeDurable");

  /**
   * BREAKS THE PROTOCOL: a participant votes YES before its prepared record is durable. Used to
   * prove that the Jepsen-style checkers catch a lost vote.
   */
  public static final boolean PARTICIPANT_UNSAFE_VOTE_BEFORE_DURABLE =
      Boolean.getBoolean("decree.fault.participant.unsafeVoteBeforeDurable");

  /**
   * BREAKS THE PROTOCOL: a prepared participant told ABORT commits instead. Used to prove that the
   * Jepsen-style agreement checker catches branches that disagree.
   */
  public static final boolean PARTICIPANT_UNSAFE_COMMIT_ON_ABORT =
      Boolean.getBoolean("decree.fault.participant.unsafeCommitOnAbort");

  /**
   * LIES TO CLIENTS: the coordinator answers ABORTED for every other transaction it committed (even
   * sequence numbers). Used to prove that the Jepsen-style honesty checker catches it.
   */
  public static final boolean COORDINATOR_MISREPORT_COMMITS =
      Boolean.getBoolean("decree.fault.coordinator.misreportCommits");

  /**
   * HIDES BLOCKING: a participant's admin status omits why its in-doubt branches are blocked. Used
   * to prove that the Jepsen-style blocking checker catches it.
   */
  public static final boolean PARTICIPANT_HIDE_BLOCKING =
      Boolean.getBoolean("decree.fault.participant.hideBlocking");

  /**
   * Each log append waits this long before it is written (a slow disk). With an unsafe switch on, a
   * kill -9 inside that window loses what was already announced, as a power failure would lose an
   * unsynced write (a kill -9 alone never loses the page cache).
   */
  public static final long APPEND_DELAY_MILLIS = Long.getLong("decree.fault.appendDelayMillis", 0);

  static {
    if (HALT_AFTER_DECISION
        || PREPARE_DELAY_MILLIS > 0
        || IGNORE_PHASE_TWO
        || IGNORE_DECISIONS
        || COORDINATOR_UNSAFE_SEND_BEFORE_DURABLE
        || PARTICIPANT_UNSAFE_VOTE_BEFORE_DURABLE
        || PARTICIPANT_UNSAFE_COMMIT_ON_ABORT
        || COORDINATOR_MISREPORT_COMMITS
        || PARTICIPANT_HIDE_BLOCKING
        || APPEND_DELAY_MILLIS > 0) {
      log.warn(
          "TEST FAULTS ON: haltAfterDecision={} prepareDelayMillis={} ignorePhaseTwo={}"
              + " ignoreDecisions={} coordinatorUnsafeSendBeforeDurable={}"
              + " participantUnsafeVoteBeforeDurable={} participantUnsafeCommitOnAbort={}"
              + " coordinatorMisreportCommits={} participantHideBlocking={} appendDelayMillis={}",
          HALT_AFTER_DECISION,
          PREPARE_DELAY_MILLIS,
          IGNORE_PHASE_TWO,
          IGNORE_DECISIONS,
          COORDINATOR_UNSAFE_SEND_BEFORE_DURABLE,
          PARTICIPANT_UNSAFE_VOTE_BEFORE_DURABLE,
          PARTICIPANT_UNSAFE_COMMIT_ON_ABORT,
          COORDINATOR_MISREPORT_COMMITS,
          PARTICIPANT_HIDE_BLOCKING,
          APPEND_DELAY_MILLIS);
    }
  }

  private FaultSwitches() {}

  /** The participant core's protocol rules these switches break ({@code NONE} unless set). */
  public static ParticipantConfig.Unsafe participantUnsafe() {
    return new ParticipantConfig.Unsafe(
        PARTICIPANT_UNSAFE_VOTE_BEFORE_DURABLE, PARTICIPANT_UNSAFE_COMMIT_ON_ABORT);
  }

  /** Ends the process at once, without shutdown hooks: what kill -9 does. */
  public static void halt(String where) {
    log.warn("TEST FAULT: halting at {}", where);
    Runtime.getRuntime().halt(137);
  }

  public static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
