package io.decree.core.sim;

/**
 * The coordinator cluster's shape and fault rates in a simulation. One member means the classic
 * single coordinator with its own log ({@link SimCoordinator}); more means {@link SimCluster}.
 *
 * @param members coordinator members sharing the replicated decision log
 * @param electionRate chance, every 10 ms of faulty time, of a leader change without a crash (an
 *     election timeout: a slow heartbeat, a pause)
 * @param memberPartitionRate chance, every 10 ms of faulty time, that one member is cut from the
 *     other members for a while
 * @param noticeDelayMaxMillis a deposed leader keeps running its core for up to this long before it
 *     notices
 * @param ackLossRate chance that a committed append's acknowledgement is lost (the core hears a
 *     timeout for a record that is durable)
 * @param appendTimeoutMillis an append not acknowledged by then fails (it may still land)
 * @param applyLagMaxMillis a follower applies a committed entry up to this much later
 * @param unsafeNoTermFencing TEST ONLY: the state machine applies an entry whatever term its sender
 *     led in (a deposed core's retried append lands after the new leader recovered)
 * @param unsafeRecoverStalePrefix TEST ONLY: a new leader rebuilds its core from what it has
 *     applied so far, without first applying the earlier terms' committed entries
 */
record SimClusterOptions(
    int members,
    double electionRate,
    double memberPartitionRate,
    long noticeDelayMaxMillis,
    double ackLossRate,
    long appendTimeoutMillis,
    int applyLagMaxMillis,
    boolean unsafeNoTermFencing,
    boolean unsafeRecoverStalePrefix) {

  static SimClusterOptions single() {
    return new SimClusterOptions(1, 0, 0, 0, 0, 400, 1, false, false);
  }

  static SimClusterOptions of(int members) {
    return new SimClusterOptions(members, 0.002, 0.001, 1_000, 0.05, 400, 100, false, false);
  }

  SimClusterOptions withElectionRate(double rate) {
    return new SimClusterOptions(
        members,
        rate,
        memberPartitionRate,
        noticeDelayMaxMillis,
        ackLossRate,
        appendTimeoutMillis,
        applyLagMaxMillis,
        unsafeNoTermFencing,
        unsafeRecoverStalePrefix);
  }

  SimClusterOptions withUnsafeNoTermFencing() {
    return new SimClusterOptions(
        members,
        electionRate,
        memberPartitionRate,
        noticeDelayMaxMillis,
        ackLossRate,
        appendTimeoutMillis,
        applyLagMaxMillis,
        true,
        unsafeRecoverStalePrefix);
  }

  SimClusterOptions withUnsafeRecoverStalePrefix() {
    return new SimClusterOptions(
        members,
        electionRate,
        memberPartitionRate,
        noticeDelayMaxMillis,
        ackLossRate,
        appendTimeoutMillis,
        applyLagMaxMillis,
        unsafeNoTermFencing,
        true);
  }
}
