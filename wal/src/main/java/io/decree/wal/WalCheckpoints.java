package io.decree.wal;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Checkpoints that keep a log bounded: a snapshot of its owner's state written into the log as a
 * begin record, the snapshot in chunks and an end record, appended in one go by the owner's single
 * thread so that nothing lands between them. Once every one of them is durable the log is told to
 * keep nothing older than the begin record ({@link WriteAheadLog#retainFrom}; the WAL then deletes
 * whole files before it). A checkpoint with a chunk that failed is never used by recovery, so it
 * releases nothing.
 *
 * <p>Replay ({@link Reader}): a complete checkpoint replaces whatever the owner built from the
 * records before it (those may be partly deleted), later records apply on top of it, and one cut
 * short by a crash is ignored (everything it copied is still in the log before it).
 *
 * <p>Record types {@value #BEGIN}, {@value #CHUNK} and {@value #END} are taken; an owner's own
 * record types must differ. Not thread-safe: one writer per log.
 */
public final class WalCheckpoints {
  private static final Logger log = LoggerFactory.getLogger(WalCheckpoints.class);

  public static final int BEGIN = 101;
  public static final int CHUNK = 102;
  public static final int END = 103;

  /** Snapshot bytes per chunk record; well under the WAL's record limit. */
  public static final int CHUNK_BYTES = 256 * 1024;

  private final WriteAheadLog wal;
  private final String what;

  /**
   * Ids of this process's checkpoints: random first, so that a checkpoint cut short and the next
   * process's first one never share an id (recovery must not join their chunks).
   */
  private long nextId = new SecureRandom().nextLong();

  /**
   * @param what names the log in messages, e.g. "decision log"
   */
  public WalCheckpoints(WriteAheadLog wal, String what) {
    this.wal = wal;
    this.what = what;
  }

  /**
   * Appends {@code snapshot} as a checkpoint. The returned future completes with the begin record's
   * position once every record of it is durable and older files were released (on another thread
   * than the WAL's writer), or fails with the reason nothing was released.
   */
  public CompletableFuture<Long> write(byte[] snapshot) {
    try {
      return append(snapshot);
    } catch (IllegalArgumentException refused) {
      // A log whose records cannot hold a chunk: no checkpoint, nothing released; say so.
      log.warn("{} checkpoint not written, nothing deleted: {}", what, refused.getMessage());
      return CompletableFuture.failedFuture(refused);
    }
  }

  private CompletableFuture<Long> append(byte[] snapshot) {
    long id = nextId++;
    int chunks = Math.max(1, (snapshot.length + CHUNK_BYTES - 1) / CHUNK_BYTES);
    List<CompletableFuture<Long>> written = new ArrayList<>(chunks + 2);
    CompletableFuture<Long> begin = wal.append(BEGIN, ByteBuffer.allocate(8).putLong(id).array());
    written.add(begin);
    for (int i = 0; i < chunks; i++) {
      int from = i * CHUNK_BYTES;
      int length = Math.min(CHUNK_BYTES, snapshot.length - from);
      written.add(
          wal.append(
              CHUNK,
              ByteBuffer.allocate(12 + length)
                  .putLong(id)
                  .putInt(i)
                  .put(snapshot, from, length)
                  .array()));
    }
    written.add(wal.append(END, ByteBuffer.allocate(12).putLong(id).putInt(chunks).array()));
    // Completions run on the WAL's writer thread; deleting files is left to another thread.
    return CompletableFuture.allOf(written.toArray(CompletableFuture[]::new))
        .thenApplyAsync(
            done -> {
              long position = begin.join();
              try {
                wal.retainFrom(position);
              } catch (WalClosedException closing) {
                // Stopped meanwhile: the files stay until a checkpoint after the next start.
              }
              return position;
            })
        .whenComplete(
            (position, error) -> {
              if (error != null) {
                log.warn(
                    "{} checkpoint {} not confirmed durable or not released, nothing deleted: {}",
                    what,
                    id,
                    String.valueOf(error.getMessage()));
              }
            });
  }

  /** Finds the last complete checkpoint while a log is replayed; see the class comment. */
  public static final class Reader {
    private final Consumer<byte[]> onCheckpoint;

    /** The checkpoint being read: its id and chunks so far; null outside one. */
    private Long openId;

    private ByteArrayOutputStream chunks;
    private int chunkCount;
    private long checkpointRecords;
    private int complete;

    /**
     * @param onCheckpoint gets each complete checkpoint's snapshot, in log order: the owner
     *     replaces the state it built so far with it
     */
    public Reader(Consumer<byte[]> onCheckpoint) {
      this.onCheckpoint = onCheckpoint;
    }

    /**
     * Takes a replayed record. True if it belonged to a checkpoint; false for the owner's own
     * records, which the caller applies (a live record after an unfinished checkpoint means a crash
     * cut that one short: it is abandoned).
     */
    public boolean accept(WalRecord r) {
      switch (r.type()) {
        case BEGIN -> {
          checkpointRecords++;
          openId = ByteBuffer.wrap(r.payload()).getLong();
          chunks = new ByteArrayOutputStream();
          chunkCount = 0;
        }
        case CHUNK -> {
          checkpointRecords++;
          ByteBuffer b = ByteBuffer.wrap(r.payload());
          long id = b.getLong();
          int index = b.getInt();
          if (openId != null && openId == id && index == chunkCount) {
            chunks.write(r.payload(), 12, r.payload().length - 12);
            chunkCount++;
          } else {
            openId = null; // not the chunk expected: this checkpoint cannot be used
          }
        }
        case END -> {
          checkpointRecords++;
          ByteBuffer b = ByteBuffer.wrap(r.payload());
          long id = b.getLong();
          int count = b.getInt();
          if (openId != null && openId == id && count == chunkCount) {
            complete++;
            onCheckpoint.accept(chunks.toByteArray());
          }
          openId = null;
          chunks = null;
        }
        default -> {
          openId = null;
          chunks = null;
          return false;
        }
      }
      return true;
    }

    /** Checkpoint records seen, used or not. */
    public long checkpointRecords() {
      return checkpointRecords;
    }

    /** Complete checkpoints found. */
    public int complete() {
      return complete;
    }
  }
}
