package io.decree.core.sim;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.core.participant.ParticipantConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;

/**
 * The main test of the protocol core: many seeded runs of the deterministic simulation, each
 * checking agreement, one decision, validity, stable vote, durability of definite answers and
 * termination. A failure prints its seed; {@code -Ddecree.sim.seed=N} replays exactly that run.
 */
class SimulationTest {
  /** Seeds that once found bugs, or cover edge cases; they run every time. */
  private static final long[] FIXED_SEEDS = {1, 2, 3, 42, 1234, 987654321L};

  private static final boolean SOAK = Boolean.getBoolean("decree.soak");

  @Test
  void fixedSeedsHoldEveryInvariant() {
    for (long seed : FIXED_SEEDS) {
      assertRunHolds(seed, SimOptions.defaults());
    }
  }

  @Test
  void freshSeedsHoldEveryInvariant() {
    String replay = System.getProperty("decree.sim.seed");
    if (replay != null) {
      assertRunHolds(Long.parseLong(replay), SimOptions.defaults());
      return;
    }
    int runs = SOAK ? 20_000 : 1_500;
    long base = ThreadLocalRandom.current().nextLong();
    for (int i = 0; i < runs; i++) {
      assertRunHolds(base + i, SimOptions.defaults());
    }
  }

  private static void assertRunHolds(long seed, SimOptions options) {
    Simulation.Result result = new Simulation(seed, options).run();
    assertThat(result.violations())
        .as("replay with -Ddecree.sim.seed=%d: %s", seed, result.describe())
        .isEmpty();
  }

  @Test
  void shortRetentionForgetsHonestlyAndNeverGuesses() {
    SimOptions base = SimOptions.defaults();
    SimOptions forgetful =
        base.withCoordinator(
                base.coordinator().withTimings(800, new io.decree.core.Backoff(20, 1_000), 2_000))
            .withParticipant(
                base.participant()
                    .withTimings(3_000, 300, new io.decree.core.Backoff(50, 2_000), 2_000));
    String replay = System.getProperty("decree.sim.seed");
    if (replay != null) {
      assertRunHolds(Long.parseLong(replay), forgetful);
      return;
    }
    long base64 = ThreadLocalRandom.current().nextLong();
    for (int i = 0; i < (SOAK ? 5_000 : 300); i++) {
      assertRunHolds(base64 + i, forgetful);
    }
  }

  /**
   * Participants that remember only a few finished branches (forgotten by count, not age, once
   * older than the clock-skew window) and checkpoint their logs: forgetting must stay honest too.
   */
  @Test
  void participantsThatRememberFewBranchesForgetHonestly() {
    SimOptions base = SimOptions.defaults();
    SimOptions forgetful = base.withParticipant(base.participant().withRememberedMax(2));
    long base64 = ThreadLocalRandom.current().nextLong();
    for (int i = 0; i < (SOAK ? 2_000 : 150); i++) {
      assertRunHolds(base64 + i, forgetful);
    }
  }

  /**
   * The simulated operator really forces branches, and some forced outcomes end up differing from
   * the decision (heuristic mixed): the runs above checked every one of them was reported.
   */
  @Test
  void operatorForcesBranchesAndSomeDisagreeWithTheDecision() {
    int forced = 0;
    int mismatched = 0;
    for (long seed = 1; seed <= 300; seed++) {
      Simulation.Result result = new Simulation(seed, SimOptions.defaults()).run();
      assertThat(result.violations()).as("seed %d", seed).isEmpty();
      forced += result.heuristicBranches();
      mismatched += result.heuristicMismatches();
    }
    assertThat(forced).isPositive();
    assertThat(mismatched).isPositive();
  }

  @Test
  void coordinatorOutagesResolveThroughPeers() {
    SimOptions outages = SimOptions.defaults().withCoordinatorOutages();
    long base = ThreadLocalRandom.current().nextLong();
    long peerAnswers = 0;
    for (int i = 0; i < (SOAK ? 5_000 : 300); i++) {
      Simulation.Result result = new Simulation(base + i, outages).run();
      assertThat(result.violations())
          .as("seed %d with coordinator outages: %s", base + i, result.describe())
          .isEmpty();
      peerAnswers += result.peerAnswers();
    }
    assertThat(peerAnswers)
        .as("cooperative termination answered some in-doubt branch")
        .isPositive();
  }

  @Test
  void sameSeedReplaysTheSameRun() {
    Simulation.Result first = new Simulation(77, SimOptions.defaults()).run();
    Simulation.Result second = new Simulation(77, SimOptions.defaults()).run();
    assertThat(second).isEqualTo(first);
  }

  @Test
  void simulatorCatchesACoordinatorThatSendsBeforeTheDecisionIsDurable() {
    SimOptions broken =
        SimOptions.defaults()
            .withCoordinator(SimOptions.defaults().coordinator().withUnsafeSendBeforeDurable(true));
    assertThat(firstViolations(broken, 200)).anyMatch(v -> v.contains("before COMMIT was durable"));
  }

  @Test
  void simulatorCatchesAParticipantThatVotesBeforeItsVoteIsDurable() {
    SimOptions broken =
        SimOptions.defaults()
            .withParticipant(
                SimOptions.defaults()
                    .participant()
                    .withUnsafe(new ParticipantConfig.Unsafe(true, false)));
    // Caught as COMMIT without a durable YES, or as its consequence: a participant that lost its
    // unsynced YES in a crash aborts a transaction the others commit.
    assertThat(firstViolations(broken, 500))
        .anyMatch(v -> v.contains("without a durable YES") || v.startsWith("agreement:"));
  }

  @Test
  void simulatorCatchesAParticipantThatCommitsWhatWasAborted() {
    SimOptions broken =
        SimOptions.defaults()
            .withParticipant(
                SimOptions.defaults()
                    .participant()
                    .withUnsafe(new ParticipantConfig.Unsafe(false, true)));
    assertThat(firstViolations(broken, 200)).anyMatch(v -> v.startsWith("agreement:"));
  }

  @Test
  void simulatorCatchesACheckpointThatLosesPreparedBranches() {
    List<String> found = new ArrayList<>();
    for (long seed = 1; seed <= 300 && found.isEmpty(); seed++) {
      found.addAll(
          new Simulation(seed, SimOptions.defaults())
              .withCheckpointsLosingPreparedBranches()
              .run()
              .violations());
    }
    assertThat(found).isNotEmpty();
  }

  @Test
  void simulatorCatchesAClientThatCommitsWithoutNamingEveryParticipant() {
    List<String> found = new ArrayList<>();
    for (long seed = 1; seed <= 200 && found.isEmpty(); seed++) {
      found.addAll(
          new Simulation(seed, SimOptions.defaults())
              .withClientsForgettingAParticipant()
              .run()
              .violations());
    }
    assertThat(found).anyMatch(v -> v.contains("without a durable YES"));
  }

  @Test
  void aCommitThatDoesNotNameTheParticipantsOfSuchATransactionAborts() {
    // The same clients, but their commit (as if from another process) does not name anyone: the
    // coordinator must abort, never commit without work it cannot see (the checker counts a
    // participant that did work as enlisted, so a COMMIT without its YES is a violation).
    for (long seed = 1; seed <= 30; seed++) {
      assertThat(
              new Simulation(seed, SimOptions.defaults())
                  .withClientsCommittingWithoutNaming()
                  .run()
                  .violations())
          .as("seed " + seed)
          .isEmpty();
    }
  }

  private static List<String> firstViolations(SimOptions options, int seedsMax) {
    List<String> found = new ArrayList<>();
    for (long seed = 1; seed <= seedsMax && found.isEmpty(); seed++) {
      found.addAll(new Simulation(seed, options).run().violations());
    }
    return found;
  }
}
