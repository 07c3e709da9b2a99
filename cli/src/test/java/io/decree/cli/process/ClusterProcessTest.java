package io.decree.cli.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import io.decree.core.Outcome;
import io.decree.participant.DecreeClient;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.PartyContact;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * A three-member coordinator cluster (Raft over Apache Ratis) and two account services, each its
 * own JVM on 127.0.0.1; faults are real kill -9s.
 */
class ClusterProcessTest {
  private static final Duration RESOLVE = Duration.ofSeconds(90);
  private static final String IGNORE_PHASE_TWO = "-Ddecree.fault.participant.ignorePhaseTwo=true";
  private static final String SLOW_DECISION_LOG = "-Ddecree.fault.appendDelayMillis=3000";

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

  private NodeProcess awaitLeader() {
    await().atMost(RESOLVE).until(() -> cluster.leader().isPresent());
    return cluster.leader().orElseThrow();
  }

  /** Asks until the answer is definite (bounded); a transaction nobody decided ends ABORTED. */
  private Outcome finalOutcome(String tx) {
    await()
        .atMost(RESOLVE)
        .pollInterval(Duration.ofMillis(300))
        .until(() -> cluster.client.status(tx).outcome() != Outcome.UNKNOWN);
    return cluster.client.status(tx).outcome();
  }

  @Test
  void leaderKilledWhileCommitsFlowLosesNoAcknowledgedDecision() throws Exception {
    cluster = new ProcessCluster(dir, 3, List.of(), List.of(), List.of());
    NodeProcess firstLeader = awaitLeader();

    Map<String, Outcome> answered = new LinkedHashMap<>();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(14);
    long killAt = System.nanoTime() + TimeUnit.SECONDS.toNanos(3);
    boolean killed = false;
    for (int i = 0; i < 5_000 && System.nanoTime() < until; i++) {
      if (!killed && System.nanoTime() > killAt) {
        firstLeader.kill();
        killed = true;
      }
      String tx;
      try {
        tx = cluster.beginTransfer(1, Duration.ofSeconds(10));
      } catch (RuntimeException noLeaderYet) {
        Thread.sleep(50);
        continue; // nothing was committed under this attempt's id (or it times out and aborts)
      }
      answered.put(tx, cluster.client.commit(tx).outcome());
    }
    assertThat(killed).isTrue();
    NodeProcess secondLeader = awaitLeader();
    assertThat(secondLeader).isNotSameAs(firstLeader);
    // Its process gone, the old leader was replaced without waiting out the election timeout: a
    // follower saw its port refuse connections and started the election (LeaderWatch).
    String gone = firstLeader.name().substring(firstLeader.name().lastIndexOf('-') + 1);
    StringBuilder survivors = new StringBuilder();
    for (NodeProcess member : cluster.coordinators) {
      if (member != firstLeader) {
        survivors.append(member.newOutput(0));
      }
    }
    assertThat(survivors).contains("started an election to replace " + gone);
    cluster.restartWithoutFaults(firstLeader);

    long acknowledged = answered.values().stream().filter(o -> o == Outcome.COMMITTED).count();
    assertThat(acknowledged).isPositive();
    long committed = 0;
    List<String> lost = new ArrayList<>();
    for (var e : answered.entrySet()) {
      Outcome outcome = finalOutcome(e.getKey());
      if (e.getValue() != Outcome.UNKNOWN && e.getValue() != outcome) {
        lost.add(e.getKey() + ": answered " + e.getValue() + ", now " + outcome);
      }
      committed += outcome == Outcome.COMMITTED ? 1 : 0;
    }
    assertThat(lost).as("definite answers the new leader contradicts").isEmpty();
    // Every committed transfer is applied at both services, and nothing else is.
    long expected = committed;
    await().atMost(RESOLVE).until(() -> cluster.balance(cluster.b, "bob") == 100 + expected);
    await().atMost(RESOLVE).until(() -> cluster.balance(cluster.a, "alice") == 100 - expected);
  }

  @Test
  void inDoubtBranchesOfAKilledLeaderAreFinishedByTheNextLeader() {
    // Both services ignore phase 2, so the branches stay prepared until they inquire.
    cluster =
        new ProcessCluster(dir, 3, List.of(), List.of(IGNORE_PHASE_TWO), List.of(IGNORE_PHASE_TWO));
    NodeProcess leader = awaitLeader();
    String tx = cluster.beginTransfer(30, Duration.ofSeconds(30));
    assertThat(cluster.client.commit(tx).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(cluster.state(cluster.a, tx)).isEqualTo("PREPARED");

    leader.kill();

    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("COMMITTED"));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, tx).equals("COMMITTED"));
    assertThat(leader.alive()).isFalse();
    NodeProcess next = awaitLeader();
    assertThat(next).isNotSameAs(leader);
    assertThat(cluster.client.status(tx).outcome()).isEqualTo(Outcome.COMMITTED);
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(70);
  }

  @Test
  void withoutQuorumClientsHearUnknownAndParticipantsReportBlockedThenAllResolves()
      throws Exception {
    // The leader's decision waits 3 s before it reaches the Raft log (a slow disk; less than the
    // 6 s decision timeout, or a member left with it could never decide): both branches
    // vote YES and stay PREPARED, and the kill lands before anything is decided. (With one
    // branch still preparing, the other would rightly learn ABORT from it by cooperative
    // termination, and nothing would be blocked.)
    cluster = new ProcessCluster(dir, 3, List.of(SLOW_DECISION_LOG), List.of(), List.of());
    NodeProcess leader = awaitLeader();
    NodeProcess follower = cluster.coordinators.stream().filter(c -> c != leader).findFirst().get();
    NodeProcess survivor =
        cluster.coordinators.stream().filter(c -> c != leader && c != follower).findFirst().get();
    String tx = cluster.beginTransfer(10, Duration.ofSeconds(60));
    CompletableFuture<DecreeClient.Result> commit =
        CompletableFuture.supplyAsync(() -> cluster.client.commit(tx));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals("PREPARED"));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, tx).equals("PREPARED"));

    leader.kill();
    follower.kill();

    DecreeClient.Result answer = commit.get(90, TimeUnit.SECONDS);
    assertThat(answer.outcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(answer.reason()).isNotBlank();
    // The prepared branch is blocked and says why: no quorum, and the last leader it was told of.
    await()
        .atMost(RESOLVE)
        .untilAsserted(
            () -> {
              // untilAsserted: a timeout shows the last status seen, not just "not fulfilled".
              BranchStatus seen = cluster.branch(cluster.a, tx).orElseThrow();
              assertThat(seen.getBlocking().getContactsList())
                  .as(
                      "blocking status of %s at a: %s%nthe surviving coordinator says: %s",
                      tx, seen, cluster.nodeStatus(survivor))
                  .extracting(PartyContact::getLastError)
                  .anyMatch(e -> e.contains("no coordinator quorum"));
            });
    BranchStatus blocked = cluster.branch(cluster.a, tx).orElseThrow();
    assertThat(blocked.getState()).isEqualTo("PREPARED");
    assertThat(blocked.getBlocking().getContactsList())
        .extracting(PartyContact::getLastError)
        .anyMatch(e -> e.contains("last leader seen"));

    cluster.restartWithoutFaults(leader);
    cluster.restartWithoutFaults(follower);

    Outcome outcome = finalOutcome(tx);
    String expected = outcome == Outcome.COMMITTED ? "COMMITTED" : "ABORTED";
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, tx).equals(expected));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, tx).equals(expected));
  }

  @Test
  void theWholeClusterRestartsFromDiskWithItsDecisions() {
    cluster = new ProcessCluster(dir, 3, List.of(), List.of(), List.of());
    awaitLeader();
    String committed = cluster.beginTransfer(5, Duration.ofSeconds(30));
    assertThat(cluster.client.commit(committed).outcome()).isEqualTo(Outcome.COMMITTED);
    String rolledBack = cluster.beginTransfer(7, Duration.ofSeconds(30));
    assertThat(cluster.client.rollback(rolledBack).outcome()).isEqualTo(Outcome.ABORTED);
    // A rollback leaves no record (presumed abort): if its ABORT had not reached the services
    // before the kill, they would hold the branch's locks until its 30 s deadline.
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, rolledBack).equals("ABORTED"));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, rolledBack).equals("ABORTED"));

    cluster.coordinators.forEach(NodeProcess::kill);
    cluster.coordinators.forEach(cluster::restartWithoutFaults);
    awaitLeader();

    assertThat(finalOutcome(committed)).isEqualTo(Outcome.COMMITTED);
    assertThat(finalOutcome(rolledBack)).isEqualTo(Outcome.ABORTED);
    // The next leader re-drives phase 2 of the commit; until then its branches hold their locks.
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.a, committed).equals("COMMITTED"));
    await().atMost(RESOLVE).until(() -> cluster.state(cluster.b, committed).equals("COMMITTED"));
    String next = cluster.beginTransfer(1, Duration.ofSeconds(30));
    assertThat(cluster.client.commit(next).outcome()).isEqualTo(Outcome.COMMITTED);
    // commit answers once the decision is durable; phase 2 reaches the services just after.
    await().atMost(RESOLVE).until(() -> cluster.balance(cluster.a, "alice") == 94);
    await().atMost(RESOLVE).until(() -> cluster.balance(cluster.b, "bob") == 106);
  }

  /**
   * Through the admin CLI: snapshot, add a fourth member, see it catch up. (Here the log still
   * holds every entry, so it catches up from the log; the install of a snapshot to a member behind
   * a purged log is tested in-JVM by RatisDecisionLogTest.)
   */
  @Test
  void aMemberAddedWhileRunningCatchesUpAndTheAdminCommandsShowIt() {
    cluster = new ProcessCluster(dir, 3, List.of(), List.of(), List.of());
    NodeProcess leader = awaitLeader();
    for (int i = 0; i < 20; i++) {
      String tx = cluster.beginTransfer(1, Duration.ofSeconds(30));
      assertThat(cluster.client.commit(tx).outcome()).isEqualTo(Outcome.COMMITTED);
    }
    AdminProcessTest.Run snapshotRun =
        AdminProcessTest.admin("cluster", "snapshot", "--coordinator", leader.address());
    assertThat(snapshotRun.code()).as(snapshotRun.err()).isZero();
    long snapshot = cluster.nodeStatus(leader).orElseThrow().getLastAppliedIndex();
    assertThat(snapshotRun.out()).contains("snapshot at log index");

    NodeProcess joiner = cluster.joiner(dir, "n4");
    AdminProcessTest.Run added =
        AdminProcessTest.admin(
            "cluster",
            "add-member",
            "n4",
            cluster.raftAddress("n4"),
            "--coordinator",
            cluster.coordinatorAddresses);
    assertThat(added.code()).as(added.err()).isZero();
    assertThat(added.out()).contains("members now:", "n4");

    await()
        .atMost(RESOLVE)
        .until(
            () ->
                cluster.nodeStatus(joiner).map(NodeStatus::getLastAppliedIndex).orElse(0L)
                    >= snapshot);
    NodeStatus joined = cluster.nodeStatus(joiner).orElseThrow();
    assertThat(joined.getRole()).isEqualTo("FOLLOWER");
    assertThat(joined.getLeaderId()).isNotEmpty();
    assertThat(joined.getMembersCount()).isEqualTo(4);

    AdminProcessTest.Run status =
        AdminProcessTest.admin(
            "cluster",
            "status",
            "--coordinator",
            cluster.coordinatorAddresses + "," + joiner.address());
    assertThat(status.code()).as(status.out() + status.err()).isZero();
    assertThat(status.out())
        .contains("Mode: cluster", "LEADER", "FOLLOWER", "member:           n4");
  }
}
