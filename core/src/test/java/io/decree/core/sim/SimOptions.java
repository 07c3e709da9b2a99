package io.decree.core.sim;

import io.decree.core.Backoff;
import io.decree.core.coordinator.CoordinatorConfig;
import io.decree.core.participant.ParticipantConfig;

/**
 * One simulation's shape and fault rates.
 *
 * @param faultMillis simulated time with faults; then everything heals and restarts
 * @param quietMillis simulated time after healing in which everything must resolve
 * @param coordinatorCrashShare of the crashes, the share that hit the coordinator
 * @param operatorRate chance, every 10 ms of faulty time, that an operator forces a random in-doubt
 *     branch (a heuristic decision), when the CLI's refusal rule would let them
 * @param cluster one coordinator (the default) or a cluster of members with a replicated log
 */
record SimOptions(
    int participants,
    int clients,
    int transactionsPerClient,
    long faultMillis,
    long quietMillis,
    double dropRate,
    double duplicateRate,
    int maxDelayMillis,
    double crashRate,
    double partitionRate,
    double syncFailureRate,
    double noVoteRate,
    double readOnlyRate,
    CoordinatorConfig coordinator,
    ParticipantConfig participant,
    double operatorRate,
    double coordinatorCrashShare,
    SimClusterOptions cluster) {

  static SimOptions defaults() {
    return new SimOptions(
        3,
        3,
        4,
        20_000,
        120_000,
        0.05,
        0.03,
        30,
        0.002,
        0.001,
        0.01,
        0.05,
        0.1,
        CoordinatorConfig.defaults()
            .withTimings(800, new Backoff(20, 1_000), 1_000_000)
            .withLimits(64, 8),
        ParticipantConfig.defaults().withTimings(3_000, 300, new Backoff(50, 2_000), 1_000_000),
        0.01,
        0.25,
        SimClusterOptions.single());
  }

  SimOptions withCoordinator(CoordinatorConfig config) {
    return new SimOptions(
        participants,
        clients,
        transactionsPerClient,
        faultMillis,
        quietMillis,
        dropRate,
        duplicateRate,
        maxDelayMillis,
        crashRate,
        partitionRate,
        syncFailureRate,
        noVoteRate,
        readOnlyRate,
        config,
        participant,
        operatorRate,
        coordinatorCrashShare,
        cluster);
  }

  SimOptions withParticipant(ParticipantConfig config) {
    return new SimOptions(
        participants,
        clients,
        transactionsPerClient,
        faultMillis,
        quietMillis,
        dropRate,
        duplicateRate,
        maxDelayMillis,
        crashRate,
        partitionRate,
        syncFailureRate,
        noVoteRate,
        readOnlyRate,
        coordinator,
        config,
        operatorRate,
        coordinatorCrashShare,
        cluster);
  }

  /** More crashes, half of them the coordinator's: prepared branches must resolve through peers. */
  SimOptions withCoordinatorOutages() {
    return new SimOptions(
        participants,
        clients,
        transactionsPerClient,
        faultMillis,
        quietMillis,
        dropRate,
        duplicateRate,
        maxDelayMillis,
        0.01,
        partitionRate,
        syncFailureRate,
        noVoteRate,
        readOnlyRate,
        coordinator,
        participant,
        operatorRate,
        0.5,
        cluster);
  }

  /**
   * {@code members} coordinators sharing a replicated decision log ({@link SimCluster}), with
   * leader changes, deposed leaders that have not noticed yet, and lost acknowledgements.
   */
  SimOptions coordinatorMembers(int members) {
    return withCluster(members == 1 ? SimClusterOptions.single() : SimClusterOptions.of(members));
  }

  SimOptions withCluster(SimClusterOptions cluster) {
    return new SimOptions(
        participants,
        clients,
        transactionsPerClient,
        faultMillis,
        quietMillis,
        dropRate,
        duplicateRate,
        maxDelayMillis,
        crashRate,
        partitionRate,
        syncFailureRate,
        noVoteRate,
        readOnlyRate,
        coordinator,
        participant,
        operatorRate,
        coordinatorCrashShare,
        cluster);
  }
}
