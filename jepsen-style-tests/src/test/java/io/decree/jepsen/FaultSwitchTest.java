package io.decree.jepsen;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.jepsen.check.Validity;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

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
      RunConfig config = base.withSeed(base.seed() + i);
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
   * The coordinators answer COMMITTED and send phase 2 before the decision is durable, and their
   * log appends take 1.5 s: killing the leader (kill -9) inside that window loses decisions that
   * were already announced; the next leader presumes ABORT for them. Durability must list the
   * acknowledged writes that ended ABORTED.
   *
   * <p>The participants ignore phase-2 calls (they learn decisions by asking, 1 s after preparing,
   * as they would if the COMMIT were lost): otherwise the COMMIT sent before the append reaches
   * every participant at once and the lost decision leaves no trace to observe.
   */
  @Test
  @Timeout(600)
  void coordinatorAnnouncingBeforeItsDecisionIsDurableIsCaught() {
    Map<String, List<String>> options =
        new LinkedHashMap<>(onParticipants("-Ddecree.fault.participant.ignorePhaseTwo=true"));
    for (String c : List.of("c1", "c2", "c3")) {
      options.put(
          c,
          List.of(
              "-Ddecree.fault.coordinator.unsafeSendBeforeDurable=true",
              "-Ddecree.fault.appendDelayMillis=1500"));
    }
    RunConfig config =
        Scenarios.config("atomic", List.of("kill-leader"), 25, 6606).withJvmOptions(options);
    JepsenRun.Result r = runUntilInvalid(config, "durability");
    assertThat(r.verdict("durability").offending()).isNotEmpty();
    assertThat(r.validity()).isEqualTo(Validity.INVALID);
  }

  private static Map<String, List<String>> onCoordinators(String... options) {
    Map<String, List<String>> out = new LinkedHashMap<>();
    for (String c : List.of("c1", "c2", "c3")) {
      out.put(c, List.of(options));
    }
    return out;
  }

  /**
   * The coordinators answer ABORTED for every other commit that in fact COMMITTED: the client
   * records those as failed, and honesty must find them present.
   */
  @Test
  @Timeout(600)
  void coordinatorReportingAbortedForACommitIsCaughtByHonesty() {
    RunConfig config =
        Scenarios.config("atomic", List.of(), 15, 7707)
            .withRecovery(java.time.Duration.ofSeconds(20))
            .withJvmOptions(onCoordinators("-Ddecree.fault.coordinator.misreportCommits=true"));
    JepsenRun.Result r = runUntilInvalid(config, "honesty");
    assertThat(r.verdict("honesty").offending()).isNotEmpty();
  }

  /**
   * p1 commits what it was told to abort. p2 prepares its writes slower than the coordinator's
   * prepare timeout (10 s), so the coordinator aborts transfers p1 already prepared: p1 ends
   * COMMITTED where p2 logged ABORTED, and agreement must list those transactions. The switches
   * stay on across the final restart: without its switch, p1's own core would refuse the re-driven
   * ABORT for a branch it committed, and stop (p2's reads stay fast, so the final read goes
   * through). 35 s, because only the transfers whose slow prepare at p2 ended before the final
   * restart leave an ABORTED record there to compare with.
   */
  @Test
  @Timeout(600)
  void participantCommittingWhatWasAbortedIsCaughtByAgreement() {
    RunConfig config =
        Scenarios.config("bank", List.of(), 35, 8808)
            .withRecovery(java.time.Duration.ofSeconds(30))
            .withJvmOptions(
                Map.of(
                    "p1", List.of("-Ddecree.fault.participant.unsafeCommitOnAbort=true"),
                    "p2", List.of("-Ddecree.fault.participant.prepareDelayMillis=12000")))
            .withSwitchesSurvivingFinalRestart();
    JepsenRun.Result r = runUntilInvalid(config, "agreement");
    assertThat(r.verdict("agreement").offending()).allMatch(o -> o.contains("p1=COMMITTED"));
  }

  /**
   * The participants hide why their in-doubt branches are blocked. Prepares are slowed so that
   * branches are prepared when both followers die or stop (the leader stays up, takes commits and
   * cannot make their decisions durable); while no quorum is reachable the monitor sees them
   * PREPARED with no blocking report, and blocking must say so.
   */
  @Test
  @Timeout(600)
  void participantHidingThatItIsBlockedIsCaughtByBlocking() {
    RunConfig config =
        Scenarios.config("bank", List.of("majority-followers"), 30, 9909)
            .withTiming(JepsenScenariosTest.OUTAGES)
            .withJvmOptions(
                onParticipants(
                    "-Ddecree.fault.participant.hideBlocking=true",
                    JepsenScenariosTest.SLOW_PREPARE));
    JepsenRun.Result r = runUntilInvalid(config, "blocking");
    assertThat(r.verdict("blocking").offending()).allMatch(o -> o.contains("not reported blocked"));
  }
}
