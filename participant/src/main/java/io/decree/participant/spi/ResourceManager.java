package io.decree.participant.spi;

import java.util.List;

/**
 * A transactional resource behind a participant: the embedded key-value store today, an XA database
 * tomorrow. The participant runtime calls it from one thread per branch at a time and writes the
 * branch's vote and decision to its own write-ahead log around these calls.
 *
 * <p>Order of calls for one branch: work (through the resource's own API, tagged with the
 * transaction id) → {@link #prepare} → {@link #commit} or {@link #rollback}. After a crash: {@link
 * #recover} once, then commit or rollback for every branch the log shows as prepared.
 */
public interface ResourceManager {

  /** A stable name for logs and status, e.g. "kv:accounts-a" or "xa:postgres://db1". */
  String name();

  /**
   * Phase 1. Makes the branch ready to commit and returns the vote. For {@link Vote#YES} the
   * returned branch data must be enough to finish the branch after a crash (for the key-value
   * store: its write set; for XA: the Xid); the runtime makes it durable before the vote leaves the
   * process. A NO vote must leave the branch rolled back.
   */
  PrepareResult prepare(String txId) throws ResourceException;

  /**
   * Phase 2, COMMIT. Must be idempotent: after a crash it is called again with the same data, and
   * also for a branch the resource already committed.
   *
   * @param branchData what {@link #prepare} returned, or as read back from the log
   */
  void commit(String txId, byte[] branchData) throws ResourceException;

  /**
   * Phase 2, ABORT (or a unilateral abort before the vote). Idempotent; {@code branchData} is empty
   * when the branch was never prepared.
   */
  void rollback(String txId, byte[] branchData) throws ResourceException;

  /**
   * After a restart: re-adopt the branches the participant's log shows prepared (re-take their
   * locks, re-attach their Xids) and report the branches the resource itself holds prepared (for
   * XA, {@code XAResource.recover()}), so that the runtime can roll back those it never voted for.
   */
  List<String> recover(List<PreparedBranch> preparedInLog) throws ResourceException;

  /** The result of {@link #prepare}. */
  record PrepareResult(Vote vote, byte[] branchData, String reason) {
    public PrepareResult {
      branchData = branchData == null ? new byte[0] : branchData;
      reason = reason == null ? "" : reason;
    }

    public static PrepareResult yes(byte[] branchData) {
      return new PrepareResult(Vote.YES, branchData, "");
    }

    public static PrepareResult readOnly() {
      return new PrepareResult(Vote.READ_ONLY, new byte[0], "");
    }

    public static PrepareResult no(String reason) {
      return new PrepareResult(Vote.NO, new byte[0], reason);
    }
  }

  /** A branch the participant's log holds as prepared, with the data {@link #prepare} gave. */
  record PreparedBranch(String txId, byte[] branchData) {}

  /** A participant's vote in phase 1. */
  enum Vote {
    YES,
    NO,
    READ_ONLY
  }
}
