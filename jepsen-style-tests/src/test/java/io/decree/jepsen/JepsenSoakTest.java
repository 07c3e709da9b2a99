package io.decree.jepsen;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.jepsen.check.Validity;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * Long mixed-fault runs, off by default: {@code ./mvnw -pl jepsen-style-tests test
 * -Ddecree.soak=true -Dtest=JepsenSoakTest [-Ddecree.jepsen.soakMinutes=30]}.
 */
@EnabledIfSystemProperty(named = "decree.soak", matches = "true")
class JepsenSoakTest {
  private static final long MINUTES = Long.getLong("decree.jepsen.soakMinutes", 30);
  private static final List<String> ALL =
      List.of("kill", "pause", "partition", "lost-replies", "majority");

  @Test
  void bankUnderMixedFaultsForALongTime() {
    JepsenRun.Result r =
        new JepsenRun(
                Scenarios.config("bank", ALL, (int) Duration.ofMinutes(MINUTES).toSeconds(), 9001)
                    .withRecovery(Duration.ofSeconds(120)))
            .run();
    System.out.println(Scenarios.describe(r));
    assertThat(r.verdicts())
        .as(Scenarios.describe(r))
        .noneMatch(v -> v.validity() == Validity.INVALID);
  }

  @Test
  void atomicMultiWriteUnderMixedFaultsForALongTime() {
    JepsenRun.Result r =
        new JepsenRun(
                Scenarios.config("atomic", ALL, (int) Duration.ofMinutes(MINUTES).toSeconds(), 9002)
                    .withRecovery(Duration.ofSeconds(120)))
            .run();
    System.out.println(Scenarios.describe(r));
    assertThat(r.verdicts())
        .as(Scenarios.describe(r))
        .noneMatch(v -> v.validity() == Validity.INVALID);
  }
}
