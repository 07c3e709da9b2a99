package io.decree.jepsen;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.jepsen.check.Validity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.condition.EnabledIfSystemProperty;

/**
 * The checkers must be able to fail: the product is started with a test-only fault switch that
 * breaks one rule, and the suite must report the violation through the right checker.
 */
class FaultSwitchTest {
  private static final int ATTEMPTS = 3;

  private static Map<String, List<String>> onParticipants(String... options) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String p : List.of("p1", "p2", "p3")) {
      out.put(p, List.of(options));
    }
    return out;
  }

  /**
   * Runs until one attempt reports {@code checker} INVALID (bounded); returns every attempt's
   * description for the failure message.
   */
  private static JepsenRun.Result runUntilInvalid(RunConfig base, String checker) {
    List<String> seen = new ArrayList<>();
    JepsenRun.Result last = null;
    for (int i = 0; i < ATTEMPTS; i++) {
      RunConfig config =
          new RunConfig(
              base.workload(),
              base.nemeses(),
              base.time(),
              base.seed() + i,
              base.coordinators(),
              base.participants(),
              base.clients(),
              base.recovery(),
              base.outputRoot(),
              base.jvmOptions(),
              base.timing(),
              base.switchesSurviveFinalRestart());
      last = new JepsenRun(config).run();
      System.out.println(Scenarios.describe(last));
      seen.add(Scenarios.describe(last));
      if (last.verdict(checker).validity() == Validity.INVALID) {
        return last;
      }
    }
    throw new AssertionError(
        checker + " never reported INVALID in " + ATTEMPTS + " runs:\n" + String.join("\n", seen));
  }

  /**
   * A participant votes YES before its vote is durable, and its log appends take 1.5 s: a kill -9
   * inside that window loses a vote the coordinator already counted. Transactions the client saw
   * committed lose their write at that participant: durability must say so.
   *
   * <p>The participant also ignores phase-2 calls (it learns decisions by asking, once its vote is
   * logged): otherwise the COMMIT arrives while the vote is still being logged, and the participant
   * core, which checks that it never gets a COMMIT it did not vote for, stops itself first.
   */
  @Test
  @Timeout(600)
  void participantVotingBeforeItsVoteIsDurableIsCaughtByDurability() {
    RunConfig config =
        Scenarios.config("atomic", List.of("kill-participant"), 25, 4404)
            .withJvmOptions(
                onParticipants(
                    "-Ddecree.fault.participant.unsafeVoteBeforeDurable=true",
                    "-Ddecree.fault.appendDelayMillis=1500",
                    "-Ddecree.fault.participant.ignorePhaseTwo=true"));
    JepsenRun.Result r = runUntilInvalid(config, "durability");
    assertThat(r.verdict("durability").offending()).isNotEmpty();
    assertThat(r.validity()).isEqualTo(Validity.INVALID);
  }

  /**
   * A participant that discards every answer about a decision keeps its prepared branches in doubt
   * for ever: termination must list them after the recovery window.
   */
  @Test
  @Timeout(600)
  void participantThatNeverLearnsDecisionsIsCaughtByTermination() {
    RunConfig config =
        Scenarios.config("bank", List.of(), 15, 5505)
            .withRecovery(java.time.Duration.ofSeconds(15))
            .withJvmOptions(
                Map.of("p1", List.of("-Ddecree.fault.participant.ignoreDecisions=true")))
            .withSwitchesSurvivingFinalRestart();
    JepsenRun.Result r = runUntilInvalid(config, "termination");
    assertThat(r.verdict("termination").offending()).allMatch(o -> o.startsWith("p1"));
  }

  /**
   * The coordinator answers COMMITTED and sends phase 2 before its decision is durable, with 1.5 s
   * appends: a kill -9 in the window loses a decision that was already announced. Runs once the
   * coordinator honours the switch (-Ddecree.jepsen.coordinatorSwitch=true).
   */
  @Test
  @Timeout(600)
  @EnabledIfSystemProperty(named = "decree.jepsen.coordinatorSwitch", matches = "true")
  void coordinatorAnnouncingBeforeItsDecisionIsDurableIsCaught() {
    RunConfig config =
        Scenarios.config("atomic", List.of("kill-coordinator"), 25, 6606)
            .withJvmOptions(
                Map.of(
                    "c1",
                    List.of(
                        "-Ddecree.fault.coordinator.unsafeSendBeforeDurable=true",
                        "-Ddecree.fault.appendDelayMillis=1500")));
    JepsenRun.Result r = runUntilInvalid(config, "durability");
    assertThat(r.validity()).isEqualTo(Validity.INVALID);
  }
}
