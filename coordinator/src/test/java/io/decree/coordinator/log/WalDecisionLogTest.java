package io.decree.coordinator.log;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.EndRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import io.decree.wal.InMemoryWal;
import io.decree.wal.WalCheckpoints;
import io.decree.wal.WalDiskFullException;
import io.decree.wal.WalRecord;
import io.decree.wal.WriteAheadLog;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;

/** Checkpoints keep the single node's decision log bounded and recovery exact. */
class WalDecisionLogTest {
  private static final long T0 = 1_700_000_000_000L;

  /**
   * A random history of decisions (some proposed twice), ENDs, one-phase delegations and horizons:
   * what the log recovers after its checkpoints and deletions equals the state of every record ever
   * appended, and the log kept far fewer records than it was given.
   */
  @Test
  void checkpointsBoundTheLogAndRecoveryRebuildsTheStateOfEveryRecord() {
    for (long seed = 1; seed <= 20; seed++) {
      InMemoryWal wal = new InMemoryWal();
      WalDecisionLog log = new WalDecisionLog(wal, 50);
      log.recover();
      DecisionState everything = new DecisionState();
      List<CoordinatorRecord> history = history(new Random(seed), 2_000);
      for (CoordinatorRecord r : history) {
        append(log, r);
        everything.apply(r);
      }
      awaitTrue("seed " + seed + ": older records released", () -> wal.durableCount() < 500);

      log.close();
      WalDecisionLog reopened = new WalDecisionLog(wal.reopen(), 50);
      assertThat(reopened.recover())
          .as("seed %d", seed)
          .containsExactlyElementsOf(everything.recoveryRecords());
      reopened.close();
    }
  }

  /**
   * A crash in the middle of a checkpoint leaves a begin record and some chunks: recovery ignores
   * them (here they hold an empty state, which would lose every decision if used), also when
   * records of the next run follow them.
   */
  @Test
  void aCheckpointCutShortByACrashIsIgnored() {
    InMemoryWal wal = new InMemoryWal();
    WalDecisionLog log = new WalDecisionLog(wal, 1_000_000);
    log.recover();
    DecisionState everything = new DecisionState();
    Random random = new Random(7);
    List<CoordinatorRecord> history = history(random, 300);
    for (CoordinatorRecord r : history.subList(0, 200)) {
      append(log, r);
      everything.apply(r);
    }
    byte[] emptyState = new DecisionState().toSnapshot();
    wal.append(WalCheckpoints.BEGIN, ByteBuffer.allocate(8).putLong(9).array());
    wal.append(
        WalCheckpoints.CHUNK,
        ByteBuffer.allocate(12 + emptyState.length).putLong(9).putInt(0).put(emptyState).array());
    // no end record: the crash came first

    log.close();
    WalDecisionLog afterCrash = new WalDecisionLog(wal.reopen(), 1_000_000);
    assertThat(afterCrash.recover()).containsExactlyElementsOf(everything.recoveryRecords());

    for (CoordinatorRecord r : history.subList(200, 300)) {
      append(afterCrash, r);
      everything.apply(r);
    }
    afterCrash.close();
    WalDecisionLog later = new WalDecisionLog(wal.reopen(), 1_000_000);
    assertThat(later.recover()).containsExactlyElementsOf(everything.recoveryRecords());
    later.close();
  }

  /**
   * A log that grew without checkpoints (an older version, or a larger interval) is checkpointed
   * soon after its restart, not only after another full interval.
   */
  @Test
  void aLongLogIsCheckpointedSoonAfterRecovery() {
    InMemoryWal wal = new InMemoryWal();
    WalDecisionLog log = new WalDecisionLog(wal, 1_000_000);
    log.recover();
    DecisionState everything = new DecisionState();
    List<CoordinatorRecord> history = history(new Random(3), 400);
    for (CoordinatorRecord r : history.subList(0, 399)) {
      append(log, r);
      everything.apply(r);
    }
    log.close();
    InMemoryWal reopenedWal = wal.reopen();
    assertThat(reopenedWal.durableCount()).as("no checkpoint yet").isGreaterThan(300);

    WalDecisionLog reopened = new WalDecisionLog(reopenedWal, 100);
    reopened.recover();
    append(reopened, history.get(399));
    everything.apply(history.get(399));
    awaitTrue("the old records are released", () -> reopenedWal.durableCount() < 50);
    reopened.close();
    WalDecisionLog again = new WalDecisionLog(reopenedWal.reopen(), 100);
    assertThat(again.recover()).containsExactlyElementsOf(everything.recoveryRecords());
    again.close();
  }

  /**
   * A chunk that does not become durable (a full disk can refuse one batch and take the next) makes
   * the checkpoint unusable for recovery, so nothing may be released for it, even though its begin
   * and end records are durable.
   */
  @Test
  void aCheckpointWithAChunkThatFailedReleasesNothing() throws Exception {
    InMemoryWal disk = new InMemoryWal();
    List<Long> released = new ArrayList<>();
    WriteAheadLog failingChunks =
        new WriteAheadLog() {
          @Override
          public CompletableFuture<Long> append(int type, byte[] payload) {
            return type == WalCheckpoints.CHUNK
                ? CompletableFuture.failedFuture(new WalDiskFullException("test: disk full"))
                : disk.append(type, payload);
          }

          @Override
          public void replay(long fromPosition, Consumer<WalRecord> consumer) {
            disk.replay(fromPosition, consumer);
          }

          @Override
          public void retainFrom(long position) {
            released.add(position);
            disk.retainFrom(position);
          }

          @Override
          public void close() {
            disk.close();
          }
        };
    WalDecisionLog log = new WalDecisionLog(failingChunks, 20);
    log.recover();
    DecisionState everything = new DecisionState();
    for (CoordinatorRecord r : history(new Random(11), 200)) {
      append(log, r);
      everything.apply(r);
    }
    // Give a wrongly released checkpoint the time to show.
    Thread.sleep(200);
    assertThat(released).isEmpty();

    log.close();
    WalDecisionLog reopened = new WalDecisionLog(disk.reopen(), 20);
    assertThat(reopened.recover()).containsExactlyElementsOf(everything.recoveryRecords());
    reopened.close();
  }

  private static void append(WalDecisionLog log, CoordinatorRecord r) {
    if (r instanceof DecisionRecord d) {
      log.appendDecision(d);
    } else {
      log.append(r);
    }
  }

  /**
   * Transactions created one millisecond apart: most are decided (a few twice, the other way), most
   * decided ones end, some are delegated one-phase first, and every so often a horizon forgets the
   * oldest ones.
   */
  private static List<CoordinatorRecord> history(Random random, int records) {
    List<CoordinatorRecord> out = new ArrayList<>();
    List<TxId> decided = new ArrayList<>();
    long created = T0;
    ParticipantRef a = new ParticipantRef("a", "127.0.0.1:1");
    ParticipantRef b = new ParticipantRef("b", "127.0.0.1:2");
    while (out.size() < records) {
      int pick = random.nextInt(100);
      if (pick < 45 || decided.isEmpty()) {
        TxId tx = new TxId(++created, 1, created - T0);
        if (random.nextInt(5) == 0) {
          out.add(new OnePhaseRecord(tx, a));
        }
        Decision d = random.nextBoolean() ? Decision.COMMIT : Decision.ABORT;
        out.add(new DecisionRecord(tx, d, List.of(a, b), created));
        decided.add(tx);
      } else if (pick < 55) {
        TxId tx = decided.get(random.nextInt(decided.size()));
        out.add(new DecisionRecord(tx, Decision.ABORT, List.of(a), created));
      } else if (pick < 95) {
        TxId tx = decided.get(random.nextInt(decided.size()));
        out.add(new EndRecord(tx, T0 + out.size()));
      } else {
        out.add(new HorizonRecord(created - random.nextInt(200)));
      }
    }
    return out;
  }

  private static void awaitTrue(String what, BooleanSupplier condition) {
    long deadline = System.nanoTime() + 10_000_000_000L;
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("timed out waiting for: %s", what).isLessThan(deadline);
      try {
        Thread.sleep(5);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
  }
}
