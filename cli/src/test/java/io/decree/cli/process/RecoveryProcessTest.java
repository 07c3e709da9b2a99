package io.decree.cli.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decree.core.Outcome;
import io.decree.participant.DecreeClient;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.PartyContact;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * Recovery with real processes on 127.0.0.1: each node is its own JVM, crashes are kill -9 (or a
 * test switch that halts at an exact point, as kill -9 would), restarts read the logs back.
 */
class RecoveryProcessTest {
  private static final Duration RESOLVE = Duration.ofSeconds(60);
  private static final String HALT_AFTER_DECISION =
      "-Ddecree.fault.coordinator.haltAfterDecision=true";
  private static final String SLOW_PREPARE = "-Ddecree.fault.participant.prepareDelayMillis=4000";
  private static final String IGNORE_PHASE_TWO = "-Ddecree.fault.participant.ignorePhaseTwo=true";

  // Kept when a test fails: the child processes' logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  private ProcessCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @Test
  void coordinatorKilledAfterTheDecisionFinishesPhaseTwoAfterRestart() {
    cluster = new ProcessCluster(dir, List.of(HALT_AFTER_DECISION), List.of(), List.of());
    String tx = cluster.beginTransfer(30);

    // The coordinator dies the moment COMMIT is durable: the client cannot know the outcome.
    DecreeClient.Result answer = cluster.client.commit(tx);
    assertThat(answer.outcome()).isEqualTo(Outcome.UNKNOWN);
    await().atMost(RESOLVE).until(() -> !cluster.coordinator.alive());
    assertThat(cluster.state(cluster.a, tx)).isEqualTo("PREPARED");
    assertThat(cluster.state(cluster.b, tx)).isEqualTo("PREPARED");

    cluster.restartWithoutFaults(cluster.coordinator);

    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("COMMITTED"));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, tx).equals("COMMITTED"));
    assertThat(cluster.client.status(tx).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(70);
    assertThat(cluster.balance(cluster.b, "bob")).isEqualTo(130);
  }

  @Test
  void participantKilledAfterItsYesRecoversAndCompletes() throws Exception {
    cluster = new ProcessCluster(dir, List.of(), List.of(), List.of(SLOW_PREPARE));
    String tx = cluster.beginTransfer(10);
    CompletableFuture<DecreeClient.Result> commit =
        CompletableFuture.supplyAsync(() -> cluster.client.commit(tx));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("PREPARED"));

    cluster.a.kill();
    cluster.restartWithoutFaults(cluster.a);

    assertThat(commit.get(60, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.COMMITTED);
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("COMMITTED"));
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(90);
  }

  @Test
  void preparedParticipantReportsBlockedWhileTheCoordinatorIsDownThenCompletes() throws Exception {
    cluster = new ProcessCluster(dir, List.of(), List.of(), List.of(SLOW_PREPARE));
    String tx = cluster.beginTransfer(10);
    CompletableFuture<DecreeClient.Result> commit =
        CompletableFuture.supplyAsync(() -> cluster.client.commit(tx));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("PREPARED"));

    cluster.coordinator.kill();

    assertThat(commit.get(60, TimeUnit.SECONDS).outcome()).isEqualTo(Outcome.UNKNOWN);
    // Blocked, with the evidence: what it waits for, whom it tried, what failed.
    await()
        .atMost(RESOLVE)
        .until(
            () ->
                cluster
                    .branch(cluster.a, tx)
                    .map(BranchStatus::getBlocking)
                    .filter(bl -> bl.getRetries() >= 1)
                    .filter(
                        bl ->
                            bl.getContactsList().stream()
                                .anyMatch(
                                    c ->
                                        c.getParty().equals("coordinator")
                                            && !c.getLastError().isEmpty()))
                    .isPresent());
    BranchStatus blocked = cluster.branch(cluster.a, tx).orElseThrow();
    assertThat(blocked.getState()).isEqualTo("PREPARED");
    assertThat(blocked.getBlocking().getWaitingFor()).contains("decision from the coordinator");
    assertThat(blocked.getBlocking().getSinceUnixMillis()).isPositive();
    assertThat(blocked.getBlocking().getContactsList())
        .extracting(PartyContact::getParty)
        .contains("coordinator", "accounts-b");

    cluster.restartWithoutFaults(cluster.coordinator);

    // The coordinator never decided: the first inquiry makes ABORT durable, and both abort.
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("ABORTED"));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, tx).equals("ABORTED"));
    // The client's own channel may still be backing off from the kill (UNKNOWN: no answer); a
    // client asks again until the answer is definite.
    await()
        .atMost(RESOLVE)
        .until(() -> cluster.client.status(tx).outcome().equals(Outcome.ABORTED));
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(100);
  }

  @Test
  void aPeerThatKnowsTheOutcomeResolvesABranchWhileTheCoordinatorIsDown() {
    cluster = new ProcessCluster(dir, List.of(), List.of(IGNORE_PHASE_TWO), List.of());
    String tx = cluster.beginTransfer(25);

    assertThat(cluster.client.commit(tx).outcome()).isEqualTo(Outcome.COMMITTED);
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, tx).equals("COMMITTED"));
    cluster.coordinator.kill();
    assertThat(cluster.state(cluster.a, tx)).isEqualTo("PREPARED");

    // accounts-a never hears phase 2 and the coordinator is gone: accounts-b tells it.
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("COMMITTED"));
    assertThat(cluster.coordinator.alive()).isFalse();
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(75);
  }
}
