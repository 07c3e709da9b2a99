package io.decree.node;

import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that owns a protocol core. Other threads (gRPC, the WAL writer, resource workers)
 * hand it work through a bounded queue; a full queue refuses work instead of growing. A task that
 * throws stops the node: the core found a broken invariant, and going on could give a wrong answer.
 */
public final class NodeLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLoop.class);

  private final ThreadPoolExecutor executor;
  private final ScheduledExecutorService ticker;
  private final LongSupplier clock;
  private volatile Throwable fatal;

  /**
   * @param name thread name, for thread dumps
   * @param queueCapacity tasks waiting at most; beyond it {@link #execute} throws
   * @param clock wall-clock millis, read only here and handed to the core as a value
   */
  public NodeLoop(String name, int queueCapacity, LongSupplier clock) {
    this.clock = clock;
    this.executor =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.MILLISECONDS,
            new ArrayBlockingQueue<>(queueCapacity),
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name + "-ticker");
              t.setDaemon(true);
              return t;
            });
  }

  /** Runs {@code task} on the loop thread with the current time. */
  public void execute(LongConsumer task) {
    if (fatal != null) {
      throw new RejectedExecutionException("node stopped after a fatal error: " + fatal);
    }
    executor.execute(
        () -> {
          try {
            task.accept(clock.getAsLong());
          } catch (Throwable t) {
            fatal = t;
            log.error("FATAL: protocol invariant broken, stopping this node's core", t);
            executor.shutdownNow();
            ticker.shutdownNow();
          }
        });
  }

  /**
   * Like {@link #execute}, but false instead of an exception when the loop cannot take the task (a
   * full queue, a stopped loop): for work the caller may drop because something asks again.
   */
  public boolean tryExecute(LongConsumer task) {
    try {
      execute(task);
      return true;
    } catch (RejectedExecutionException busy) {
      return false;
    }
  }

  /** Calls {@code onTick} on the loop every {@code periodMillis}. */
  public void tickEvery(long periodMillis, LongConsumer onTick) {
    ticker.scheduleAtFixedRate(
        // A full queue skips a tick; the next one comes soon and timeouts are idempotent.
        () -> tryExecute(onTick), periodMillis, periodMillis, TimeUnit.MILLISECONDS);
  }

  public long now() {
    return clock.getAsLong();
  }

  /** The error that stopped the loop, if any. */
  public Throwable fatalError() {
    return fatal;
  }

  @Override
  public void close() {
    ticker.shutdownNow();
    executor.shutdown();
    try {
      if (!executor.awaitTermination(5, TimeUnit.SECONDS)) {
        executor.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      executor.shutdownNow();
    }
  }
}
