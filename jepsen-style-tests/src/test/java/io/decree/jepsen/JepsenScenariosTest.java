package io.decree.jepsen;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.jepsen.check.Validity;
import io.decree.jepsen.db.Nemesis;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The product under faults: a cluster of three coordinators and three participants, real processes,
 * kill -9 (of the leader, a member, a participant, a majority of the members), SIGSTOP, partitions
 * and lost replies through the harness's proxies. No checker may find a violation. (A checker that
 * finds nothing to judge says UNKNOWN; the fault-switch tests prove each one can say INVALID.)
 */
class JepsenScenariosTest {
  static final List<String> MIXED =
      List.of("kill", "pause", "partition", "partition-raft", "lost-replies", "majority");

  /** Long coordinator outages: faults every 1-2.5 s, each held 4.5-7 s. */
  static final Nemesis.Timing OUTAGES = new Nemesis.Timing(1_000, 2_500, 4_500, 7_000);

  /**
   * The same outages with 5-8 s between them: killed members take seconds to restart and rejoin,
   * and with short gaps nothing at all commits (a run saw 0 ok operations).
   */
  static final Nemesis.Timing OUTAGES_WITH_RECOVERY =
      new Nemesis.Timing(5_000, 8_000, 4_500, 7_000);

  /**
   * Prepares that take a while, so that some branches are always between their vote and the
   * decision when a fault strikes (otherwise a majority loss rarely catches a branch prepared).
   */
  static final String SLOW_PREPARE = "-Ddecree.fault.participant.prepareDelayMillis=800";

  private static void assertNoViolation(JepsenRun.Result r) {
    System.out.println(Scenarios.describe(r));
    assertThat(r.verdicts())
        .as(Scenarios.describe(r))
        .noneMatch(v -> v.validity() == Validity.INVALID);
    // The run did something worth judging.
    assertThat(r.counts().get("ok")).as(Scenarios.describe(r)).isPositive();
    assertThat(r.verdict("termination").validity())
        .as(Scenarios.describe(r))
        .isEqualTo(Validity.VALID);
  }

  @Test
  @Timeout(300)
  void bankUnderMixedFaults() {
    JepsenRun.Result r = new JepsenRun(Scenarios.config("bank", MIXED, 35, 1101)).run();
    assertNoViolation(r);
    assertThat(r.verdict("bank").validity()).as(Scenarios.describe(r)).isEqualTo(Validity.VALID);
  }

  @Test
  @Timeout(300)
  void atomicMultiWriteUnderMixedFaults() {
    JepsenRun.Result r = new JepsenRun(Scenarios.config("atomic", MIXED, 35, 2202)).run();
    assertNoViolation(r);
    assertThat(r.verdict("atomic").validity()).as(Scenarios.describe(r)).isEqualTo(Validity.VALID);
  }

  /**
   * Long coordinator outages: both followers killed or paused for 4.5 to 7 s (the leader stays up,
   * takes commits and cannot make their decisions durable, so branches stay prepared), or the
   * leader killed. While no quorum exists, prepared branches must say they are blocked and why (the
   * blocking checker must judge, and say VALID); everything finishes after the heal.
   */
  @Test
  @Timeout(300)
  void bankThroughCoordinatorOutages() {
    Map<String, List<String>> slowPrepares = new LinkedHashMap<>();
    for (String p : List.of("p1", "p2", "p3")) {
      slowPrepares.put(p, List.of(SLOW_PREPARE));
    }
    JepsenRun.Result r =
        new JepsenRun(
                Scenarios.config(
                        "bank",
                        List.of(
                            "majority-followers",
                            "majority-followers",
                            "majority-followers",
                            "kill-leader"),
                        35,
                        3303)
                    .withTiming(OUTAGES_WITH_RECOVERY)
                    .withJvmOptions(slowPrepares))
            .run();
    assertNoViolation(r);
    assertThat(r.verdict("blocking").validity())
        .as(Scenarios.describe(r))
        .isEqualTo(Validity.VALID);
  }

  /** The single-node topology (one coordinator over its local WAL) still works under faults. */
  @Test
  @Timeout(300)
  void bankWithASingleCoordinatorUnderMixedFaults() {
    JepsenRun.Result r =
        new JepsenRun(Scenarios.config("bank", MIXED, 25, 4404).withCoordinators(1)).run();
    assertNoViolation(r);
    assertThat(r.verdict("bank").validity()).as(Scenarios.describe(r)).isEqualTo(Validity.VALID);
  }
}
