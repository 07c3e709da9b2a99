package io.decree.wal;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The fake WAL for tests and the deterministic simulation. It keeps synced frames (the "disk")
 * apart from unsynced ones (the page cache), stores real {@link RecordCodec} frames so torn tails
 * and CRC checks behave as on disk, and never uses threads, clocks or randomness.
 *
 * <p>In {@link SyncMode#AUTO} every append is synced at once. In {@link SyncMode#MANUAL} futures
 * complete only when the test calls {@link #sync()}; {@link #crash()} then loses what was not
 * synced, as a power loss would. Thread-safe: every method synchronizes on this instance (the
 * contract suite appends from many threads).
 */
public final class InMemoryWal implements WriteAheadLog {
  private static final Logger log = LoggerFactory.getLogger(InMemoryWal.class);

  public enum SyncMode {
    AUTO,
    MANUAL
  }

  /** What survives a crash: shared between an instance and the ones reopened from it. */
  private static final class Disk {
    final List<long[]> positions = new ArrayList<>(); // [position] per frame, parallel to frames
    final List<byte[]> frames = new ArrayList<>();
    long nextPosition = 1;
    boolean open;
  }

  private record Unsynced(long position, byte[] frame, CompletableFuture<Long> future) {}

  private final Disk disk;
  private final int maxRecordBytes;
  private final List<Unsynced> unsynced = new ArrayList<>();
  private SyncMode syncMode;
  private WalException failNextSync;
  private WalException failure;
  private boolean diskFull;
  private boolean closed;

  public InMemoryWal() {
    this(SyncMode.AUTO, 1 << 20);
  }

  public InMemoryWal(SyncMode syncMode, int maxRecordBytes) {
    this(new Disk(), syncMode, maxRecordBytes);
  }

  private InMemoryWal(Disk disk, SyncMode syncMode, int maxRecordBytes) {
    if (disk.open) {
      throw new WalLockedException("InMemoryWal disk is already open by another instance");
    }
    this.disk = disk;
    this.syncMode = syncMode;
    this.maxRecordBytes = maxRecordBytes;
    disk.open = true;
    cutTornTail();
  }

  /** Opens a new instance over the same durable state; this one must be closed or crashed. */
  public synchronized InMemoryWal reopen() {
    if (!closed) {
      throw new IllegalStateException("close() or crash() this InMemoryWal before reopening");
    }
    return new InMemoryWal(disk, syncMode, maxRecordBytes);
  }

  public synchronized void syncMode(SyncMode mode) {
    this.syncMode = mode;
  }

  @Override
  public synchronized CompletableFuture<Long> append(int type, byte[] payload) {
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
    if (type < 0) {
      throw new IllegalArgumentException("record type must be >= 0 (negatives are reserved)");
    }
    if (payload.length > maxRecordBytes) {
      throw new IllegalArgumentException(
          "payload of " + payload.length + " bytes exceeds maxRecordBytes=" + maxRecordBytes);
    }
    CompletableFuture<Long> future = new CompletableFuture<>();
    if (closed) {
      future.completeExceptionally(new WalClosedException("InMemoryWal is closed"));
    } else if (failure != null) {
      future.completeExceptionally(failure);
    } else if (diskFull) {
      future.completeExceptionally(new WalDiskFullException("InMemoryWal: simulated full disk"));
    } else {
      long position = disk.nextPosition++;
      unsynced.add(
          new Unsynced(position, RecordCodec.encode(type, durableThrough(), payload), future));
      if (syncMode == SyncMode.AUTO) {
        sync();
      }
    }
    return future;
  }

  private long durableThrough() {
    return disk.positions.isEmpty() ? -1 : disk.positions.get(disk.positions.size() - 1)[0];
  }

  /**
   * Makes every unsynced record durable and completes its future, or, if {@link
   * #failNextSync(String)} was called, fails them all and every later append.
   */
  public synchronized void sync() {
    if (failNextSync != null) {
      failure = failNextSync;
      failNextSync = null;
      unsynced.forEach(u -> u.future().completeExceptionally(failure));
      unsynced.clear();
      return;
    }
    List<Unsynced> batch = List.copyOf(unsynced);
    unsynced.clear();
    for (Unsynced u : batch) {
      disk.positions.add(new long[] {u.position()});
      disk.frames.add(u.frame());
    }
    batch.forEach(u -> u.future().complete(u.position()));
  }

  /** The next {@link #sync()} fails with a {@link WalSyncException} carrying this message. */
  public synchronized void failNextSync(String message) {
    failNextSync = new WalSyncException("InMemoryWal: simulated sync failure: " + message);
  }

  /** While set, appends fail with {@link WalDiskFullException}. */
  public synchronized void diskFull(boolean full) {
    this.diskFull = full;
  }

  /** Records appended but not yet synced. */
  public synchronized int unsyncedCount() {
    return unsynced.size();
  }

  /** Records on the "disk", including a torn one not yet cut by a reopen. */
  public synchronized int durableCount() {
    return disk.frames.size();
  }

  /**
   * Power loss: unsynced records are gone (their futures never complete, as their process is dead)
   * and this instance is unusable; {@link #reopen()} returns the survivor.
   */
  public synchronized void crash() {
    unsynced.clear();
    closed = true;
    disk.open = false;
  }

  /**
   * Power loss in the middle of a write: like {@link #crash()}, but the first unsynced record
   * reaches the disk half-written. The next open detects it by CRC and cuts it.
   */
  public synchronized void crashTearingTail() {
    if (!unsynced.isEmpty()) {
      Unsynced first = unsynced.get(0);
      byte[] torn = new byte[first.frame().length / 2];
      System.arraycopy(first.frame(), 0, torn, 0, torn.length);
      disk.positions.add(new long[] {first.position()});
      disk.frames.add(torn);
    }
    crash();
  }

  private void cutTornTail() {
    int last = disk.frames.size() - 1;
    if (last < 0) {
      return;
    }
    try {
      RecordCodec.decode(disk.frames.get(last));
    } catch (RecordCodec.InvalidFrameException e) {
      log.warn(
          "InMemoryWal: cutting torn tail at position {}: {}",
          disk.positions.get(last)[0],
          e.getMessage());
      disk.frames.remove(last);
      disk.positions.remove(last);
    }
  }

  @Override
  public synchronized void replay(long fromPosition, Consumer<WalRecord> consumer) {
    if (closed) {
      throw new WalClosedException("InMemoryWal is closed");
    }
    for (int i = 0; i < disk.frames.size(); i++) {
      long position = disk.positions.get(i)[0];
      if (position < fromPosition) {
        continue;
      }
      RecordCodec.Frame frame;
      try {
        frame = RecordCodec.decode(disk.frames.get(i));
      } catch (RecordCodec.InvalidFrameException e) {
        throw new WalCorruptedException(
            "InMemoryWal record at position " + position + " is corrupt: " + e.getMessage());
      }
      consumer.accept(new WalRecord(position, frame.type(), frame.payload()));
    }
  }

  /** Drops every record below {@code position}: the fake's "files" are single records. */
  @Override
  public synchronized void retainFrom(long position) {
    if (closed) {
      throw new WalClosedException("InMemoryWal is closed");
    }
    while (!disk.positions.isEmpty() && disk.positions.get(0)[0] < position) {
      disk.positions.remove(0);
      disk.frames.remove(0);
    }
  }

  /** Like the real WAL, a clean close syncs what was appended. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    if (failure == null) {
      sync();
    }
    closed = true;
    disk.open = false;
  }
}
