package io.decree.wal;

import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;

/**
 * An append-only log whose appends are acknowledged only once durable.
 *
 * <p>Threading: {@link #append} may be called from any number of threads; records get positions in
 * the order the WAL's single writer takes them from its bounded queue. Positions are strictly
 * increasing but not contiguous.
 */
public interface WriteAheadLog extends AutoCloseable {
  /**
   * Queues a record; the future completes with its position only after the record is synced.
   *
   * <p>Blocks while the queue is full (back-pressure, never unbounded memory). The future fails
   * with {@link WalDiskFullException}, {@link WalSyncException} or {@link WalClosedException}.
   *
   * @throws IllegalArgumentException synchronously, for a null payload, a payload larger than the
   *     configured maximum, or a negative (reserved) type: these are caller bugs, not runtime
   *     conditions
   */
  CompletableFuture<Long> append(int type, byte[] payload);

  /**
   * Like {@link #append}, for a record whose loss in a crash is harmless: it does not make the log
   * sync. It is written in order with the others and becomes durable with the next sync (one that
   * another append asks for, or one the log makes by itself within a short bound: 20 ms for {@link
   * ChronicleWal}); its future completes then. An implementation may sync it at once, as the
   * default does.
   */
  default CompletableFuture<Long> appendLazily(int type, byte[] payload) {
    return append(type, payload);
  }

  /** Calls the consumer with every durable record at or after fromPosition, in order. */
  void replay(long fromPosition, Consumer<WalRecord> consumer);

  /** Replays from the start. */
  default void replay(Consumer<WalRecord> consumer) {
    replay(0L, consumer);
  }

  /** Declares the oldest position still needed; whole files entirely below it may be deleted. */
  void retainFrom(long position);

  /**
   * Syncs what is already queued (completing those futures), then releases the log; later appends
   * fail with {@link WalClosedException}. Idempotent.
   */
  @Override
  void close();
}
