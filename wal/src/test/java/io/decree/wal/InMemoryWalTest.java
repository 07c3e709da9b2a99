package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The fake's simulation controls: manual sync, crash, torn tail, failing sync, full disk. */
class InMemoryWalTest {
  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private static List<String> replay(WriteAheadLog wal) {
    List<String> out = new ArrayList<>();
    wal.replay(r -> out.add(new String(r.payload(), StandardCharsets.UTF_8)));
    return out;
  }

  @Test
  void manualSyncCompletesFuturesOnlyWhenSyncedAndCrashLosesTheRest() {
    InMemoryWal wal = new InMemoryWal(InMemoryWal.SyncMode.MANUAL, 1024);
    CompletableFuture<Long> a = wal.append(0, bytes("a"));
    assertThat(a).isNotDone();
    assertThat(replay(wal)).isEmpty();
    wal.sync();
    assertThat(a).isCompleted();
    CompletableFuture<Long> b = wal.append(0, bytes("b"));
    assertThat(wal.unsyncedCount()).isEqualTo(1);
    wal.crash();
    assertThat(b).isNotDone();
    InMemoryWal again = wal.reopen();
    assertThat(replay(again)).containsExactly("a");
  }

  @Test
  void aTornTailIsCutAtReopen() {
    InMemoryWal wal = new InMemoryWal(InMemoryWal.SyncMode.MANUAL, 1024);
    wal.append(0, bytes("a"));
    wal.sync();
    wal.append(0, bytes("torn"));
    wal.crashTearingTail();
    assertThat(wal.durableCount()).isEqualTo(2);
    InMemoryWal again = wal.reopen();
    assertThat(again.durableCount()).isEqualTo(1);
    assertThat(replay(again)).containsExactly("a");
  }

  @Test
  void aFailedSyncFailsPendingAndLaterAppends() {
    InMemoryWal wal = new InMemoryWal(InMemoryWal.SyncMode.MANUAL, 1024);
    CompletableFuture<Long> a = wal.append(0, bytes("a"));
    wal.failNextSync("EIO");
    wal.sync();
    assertThatThrownBy(a::join).cause().isInstanceOf(WalSyncException.class);
    assertThatThrownBy(() -> wal.append(0, bytes("b")).join())
        .cause()
        .isInstanceOf(WalSyncException.class);
  }

  @Test
  void aFullDiskFailsAppendsUntilCleared() {
    InMemoryWal wal = new InMemoryWal();
    wal.diskFull(true);
    assertThatThrownBy(() -> wal.append(0, bytes("a")).join())
        .cause()
        .isInstanceOf(WalDiskFullException.class);
    wal.diskFull(false);
    wal.append(0, bytes("b")).join();
    assertThat(replay(wal)).containsExactly("b");
  }
}
