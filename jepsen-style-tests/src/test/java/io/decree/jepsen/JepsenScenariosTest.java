package io.decree.jepsen;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.jepsen.check.Validity;
import io.decree.jepsen.check.Verdict;
import io.decree.jepsen.db.Nemesis;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * The product under faults: real processes, kill -9, SIGSTOP, partitions and lost replies through
 * the harness's proxies. No checker may find a violation. (A checker that finds nothing to judge
 * says UNKNOWN; the fault-switch tests prove each one can say INVALID.)
 */
class JepsenScenariosTest {
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
    JepsenRun.Result r =
        new JepsenRun(
                Scenarios.config(
                    "bank", List.of("kill", "pause", "partition", "lost-replies"), 35, 1101))
            .run();
    assertNoViolation(r);
    assertThat(r.verdict("bank").validity()).as(Scenarios.describe(r)).isEqualTo(Validity.VALID);
  }

  @Test
  @Timeout(300)
  void atomicMultiWriteUnderMixedFaults() {
    JepsenRun.Result r =
        new JepsenRun(
                Scenarios.config(
                    "atomic", List.of("kill", "pause", "partition", "lost-replies"), 35, 2202))
            .run();
    assertNoViolation(r);
    assertThat(r.verdict("atomic").validity()).as(Scenarios.describe(r)).isEqualTo(Validity.VALID);
  }

  /**
   * Long coordinator outages (kill -9 or SIGSTOP of the only coordinator for 4.5 to 7 s): prepared
   * branches must say they are blocked and why, and everything finishes after the heal.
   */
  @Test
  @Timeout(300)
  void bankThroughCoordinatorOutages() {
    JepsenRun.Result r =
        new JepsenRun(
                Scenarios.config("bank", List.of("kill-coordinator", "pause"), 35, 3303)
                    .withTiming(new Nemesis.Timing(1_000, 2_500, 4_500, 7_000)))
            .run();
    assertNoViolation(r);
    Verdict blocking = r.verdict("blocking");
    System.out.println("blocking: " + blocking);
  }
}
