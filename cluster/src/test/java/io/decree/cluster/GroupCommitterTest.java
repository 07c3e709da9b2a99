package io.decree.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.coordinator.log.DecisionState;
import io.decree.coordinator.log.DecisionStatus;
import io.decree.core.Decision;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The batching and deadline logic against a fake Raft: the test decides when entries commit. */
class GroupCommitterTest {
  private final ScheduledThreadPoolExecutor timer = new ScheduledThreadPoolExecutor(1);
  private final DecisionState applied = new DecisionState();
  private final List<byte[]> entries = new ArrayList<>();
  private final List<CompletableFuture<byte[]>> inFlight = new ArrayList<>();

  @AfterEach
  void stop() {
    timer.shutdownNow();
  }

  private synchronized CompletableFuture<byte[]> send(byte[] entry) {
    entries.add(entry);
    CompletableFuture<byte[]> reply = new CompletableFuture<>();
    inFlight.add(reply);
    return reply;
  }

  /** Commits and applies entry {@code i} as the state machine would, in term {@code term}. */
  private synchronized void commit(int i, long term) {
    Commands.Batch batch = Commands.decodeBatch(entries.get(i));
    Commands.BatchReply reply;
    if (batch.term() != term) {
      reply = new Commands.BatchReply(Commands.BatchStatus.STALE_TERM, term, List.of());
    } else {
      List<DecisionState.Result> results = new ArrayList<>();
      batch.records().forEach(r -> results.add(applied.apply(r)));
      reply = new Commands.BatchReply(Commands.BatchStatus.APPLIED, term, results);
    }
    inFlight.get(i).complete(Commands.encodeBatchReply(reply));
  }

  private GroupCommitter committer(long timeoutMillis, int queuedMax) {
    return new GroupCommitter(this::send, 100, 1 << 20, queuedMax, timeoutMillis, timer);
  }

  private static Commands.Encoded decision(long seq, Decision d) {
    return Commands.Encoded.of(new DecisionRecord(new TxId(1_000, 1, seq), d, List.of(), 1_000));
  }

  @Test
  void recordsArrivingWhileAnEntryIsInFlightShareTheNextEntry() throws Exception {
    GroupCommitter committer = committer(10_000, 1_000);
    CompletableFuture<DecisionState.Result> first =
        committer.submit(5, decision(0, Decision.COMMIT));
    List<CompletableFuture<DecisionState.Result>> rest = new ArrayList<>();
    for (int i = 1; i <= 250; i++) {
      rest.add(committer.submit(5, decision(i, Decision.COMMIT)));
    }
    assertThat(entries).hasSize(1); // the rest wait for the first entry

    commit(0, 5);
    assertThat(first.get().winner().txId().sequence()).isZero();
    assertThat(entries).hasSize(2); // 100 of the waiting 250 (the batch limit)
    commit(1, 5);
    commit(2, 5);
    commit(3, 5);

    assertThat(entries).hasSize(4);
    for (CompletableFuture<DecisionState.Result> f : rest) {
      assertThat(f.get(1, TimeUnit.SECONDS).kind()).isEqualTo(DecisionState.Kind.DECIDED);
    }
    assertThat(committer.batchesSent()).isEqualTo(4);
    assertThat(committer.recordsSent()).isEqualTo(251);
  }

  @Test
  void theWinnerComesBackForALaterOtherDecision() throws Exception {
    GroupCommitter committer = committer(10_000, 1_000);
    CompletableFuture<DecisionState.Result> commit =
        committer.submit(5, decision(1, Decision.COMMIT));
    CompletableFuture<DecisionState.Result> abort =
        committer.submit(5, decision(1, Decision.ABORT));
    commit(0, 5);
    commit(1, 5);

    assertThat(commit.get().winner().decision()).isEqualTo(Decision.COMMIT);
    assertThat(abort.get().winner().decision()).isEqualTo(Decision.COMMIT);
  }

  @Test
  void anUnansweredAppendFailsAtItsDeadlineAndDoesNotStallTheNext() throws Exception {
    GroupCommitter committer = committer(300, 1_000);
    CompletableFuture<DecisionState.Result> warmUp =
        committer.submit(5, decision(0, Decision.COMMIT));
    commit(0, 5);
    assertThat(warmUp.get(1, TimeUnit.SECONDS).kind()).isEqualTo(DecisionState.Kind.DECIDED);

    CompletableFuture<DecisionState.Result> stuck =
        committer.submit(5, decision(1, Decision.COMMIT)); // entry 1: never answered
    ExecutionException failure =
        org.junit.jupiter.api.Assertions.assertThrows(
            ExecutionException.class, () -> stuck.get(5, TimeUnit.SECONDS));
    assertThat(failure.getCause())
        .isInstanceOf(ClusterUnavailableException.class)
        .hasMessageStartingWith(
            "no coordinator quorum: not acknowledged by a majority within 300 ms");

    CompletableFuture<DecisionState.Result> next =
        committer.submit(5, decision(2, Decision.COMMIT));
    // The slot is released on the deadline thread; entry 2 goes out as soon as it is.
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(2);
    while (sentCount() < 3 && System.nanoTime() < until) {
      Thread.onSpinWait();
    }
    commit(2, 5);
    assertThat(next.get(1, TimeUnit.SECONDS).kind()).isEqualTo(DecisionState.Kind.DECIDED);
  }

  private synchronized int sentCount() {
    return entries.size();
  }

  @Test
  void anEntryThatLandsInAnotherTermIsRefusedAsLeadershipChanged() {
    GroupCommitter committer = committer(10_000, 1_000);
    CompletableFuture<DecisionState.Result> stale =
        committer.submit(5, decision(1, Decision.COMMIT));
    commit(0, 6);

    assertThat(stale)
        .failsWithin(1, TimeUnit.SECONDS)
        .withThrowableOfType(ExecutionException.class)
        .havingCause()
        .isInstanceOf(ClusterUnavailableException.class)
        .withMessageContaining("leading term 5 reached the log in term 6");
    assertThat(applied.status(new TxId(1_000, 1, 1)).state()).isEqualTo(DecisionStatus.State.NONE);
  }

  @Test
  void aFullQueueRefusesAtOnceAndCloseFailsWhatWaits() {
    GroupCommitter committer = committer(10_000, 2);
    committer.submit(5, decision(1, Decision.COMMIT)); // in flight, not queued
    CompletableFuture<DecisionState.Result> queued1 =
        committer.submit(5, decision(2, Decision.COMMIT));
    CompletableFuture<DecisionState.Result> queued2 =
        committer.submit(5, decision(3, Decision.COMMIT));
    CompletableFuture<DecisionState.Result> refused =
        committer.submit(5, decision(4, Decision.COMMIT));

    assertThat(refused).isCompletedExceptionally();
    assertThat(refused.handle((r, e) -> e.getMessage()).join())
        .startsWith("decision log overloaded");

    committer.close();
    assertThat(queued1).isCompletedExceptionally();
    assertThat(queued2.handle((r, e) -> e.getMessage()).join()).startsWith("decision log closed");
  }
}
