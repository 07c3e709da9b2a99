package io.decree.node;

import io.grpc.Context;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executor;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.LongConsumer;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a protocol core's tasks one at a time, in the order they were queued. Other threads (gRPC,
 * the WAL writer, resource workers) hand it work through a bounded queue; a full queue refuses work
 * instead of growing. A task that throws stops the node: the core found a broken invariant, and
 * going on could give a wrong answer.
 *
 * <p>Tasks run on the loop's own thread, or, with {@link #executeHere}, on the caller's thread when
 * no other thread is running the core at that moment: a gRPC transport thread then feeds a request
 * to the core without waking another thread and waiting for it (each such hand-off costs a futex
 * wake and a context switch). Either way only one thread at a time runs the core's tasks, and the
 * queue's order is kept: a caller that finds the core busy leaves its task queued behind the
 * others, for whoever runs the core to take. A caller runs at most {@value #INLINE_BUDGET} tasks
 * before leaving the rest to the loop thread, so a transport thread is never captured by a busy
 * core for long.
 */
public final class NodeLoop implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NodeLoop.class);

  /** Tasks a caller's thread runs in one go before it hands the rest to the loop thread. */
  static final int INLINE_BUDGET = 32;

  static final long RETRY_MILLIS = 5;

  private static final Executor RETRY =
      CompletableFuture.delayedExecutor(RETRY_MILLIS, TimeUnit.MILLISECONDS);

  /** The idle loop thread looks at the queue this often even without a wake-up (a safety net). */
  private static final long IDLE_PARK_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final ConcurrentLinkedQueue<Runnable> tasks = new ConcurrentLinkedQueue<>();
  private final AtomicInteger queued = new AtomicInteger();

  /** Held by whichever thread runs the core's tasks right now. */
  private final AtomicBoolean running = new AtomicBoolean();

  private final int queueCapacity;
  private final Thread thread;
  private final ScheduledExecutorService ticker;
  private final LongSupplier clock;
  private volatile boolean closed;
  private volatile Throwable fatal;

  /**
   * @param name thread name, for thread dumps
   * @param queueCapacity tasks waiting at most; beyond it {@link #execute} throws
   * @param clock wall-clock millis, read only here and handed to the core as a value
   */
  public NodeLoop(String name, int queueCapacity, LongSupplier clock) {
    if (queueCapacity < 1) {
      throw new IllegalArgumentException("queueCapacity must be >= 1, got " + queueCapacity);
    }
    this.queueCapacity = queueCapacity;
    this.clock = clock;
    this.thread = new Thread(this::runLoopThread, name);
    thread.setDaemon(true);
    this.ticker =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, name + "-ticker");
              t.setDaemon(true);
              return t;
            });
    thread.start();
  }

  /**
   * Queues {@code task} (run with the current time) and wakes the loop thread; a thread already
   * running the core may take it first.
   */
  public void execute(LongConsumer task) {
    enqueue(task);
    LockSupport.unpark(thread);
  }

  /**
   * Runs {@code task} with the current time on the calling thread if no other thread is running the
   * core now (with whatever was queued before it), else leaves it queued for the thread that is.
   * For callers that may block briefly (a full WAL queue applies back-pressure to the core). A
   * WAL's writer thread may call it for its own completions: the core appends only to its own
   * node's log, and an append made on that log's writer never waits for room ({@code
   * ChronicleWal}).
   */
  public void executeHere(LongConsumer task) {
    enqueue(task);
    runHere();
  }

  /**
   * Like {@link #execute}, for results of the node's own I/O (a sync, a resource call), which must
   * not be lost or a transaction would wait for them forever: a full queue is tried again every
   * {@value #RETRY_MILLIS} ms until it takes the task; a stopped loop needs it no more. Their
   * number is bounded by the I/O in flight.
   */
  public void executeEventually(LongConsumer task) {
    firstThenEventually(this::execute, task);
  }

  /**
   * {@link #executeEventually}, run on the calling thread when the core is free ({@link
   * #executeHere}): a sync's result then needs no wake-up of the loop thread. A full queue leaves
   * it to the loop thread a few milliseconds later.
   */
  public void executeHereEventually(LongConsumer task) {
    firstThenEventually(this::executeHere, task);
  }

  /** Tries {@code first}; a full queue leaves the task to the loop thread, retried until taken. */
  private void firstThenEventually(Consumer<LongConsumer> first, LongConsumer task) {
    try {
      first.accept(task);
    } catch (RejectedExecutionException full) {
      if (!stopped()) {
        RETRY.execute(() -> executeEventually(task));
      }
    }
  }

  /**
   * Like {@link #execute}, but false instead of an exception when the loop cannot take the task (a
   * full queue, a stopped loop): for work the caller may drop because something asks again.
   */
  public boolean tryExecute(LongConsumer task) {
    try {
      execute(task);
      return true;
    } catch (RejectedExecutionException refused) {
      return false;
    }
  }

  /** {@link #executeHere}, false instead of an exception as in {@link #tryExecute}. */
  public boolean tryExecuteHere(LongConsumer task) {
    try {
      executeHere(task);
      return true;
    } catch (RejectedExecutionException refused) {
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

  /** Closed, or stopped by a fatal error: takes no more tasks. */
  public boolean stopped() {
    return closed || fatal != null;
  }

  /** The error that stopped the loop, if any. */
  public Throwable fatalError() {
    return fatal;
  }

  private void enqueue(LongConsumer task) {
    Throwable stopped = fatal;
    if (stopped != null) {
      throw new RejectedExecutionException("node stopped after a fatal error: " + stopped);
    }
    if (closed) {
      throw new RejectedExecutionException("node loop closed");
    }
    if (queued.incrementAndGet() > queueCapacity) {
      queued.decrementAndGet();
      throw new RejectedExecutionException(
          "node loop queue full (" + queueCapacity + " tasks waiting)");
    }
    Runnable queuedTask = () -> runTask(task);
    tasks.add(queuedTask);
    // A close racing with this call may have let the loop thread finish already: take it back.
    if (closed && tasks.remove(queuedTask)) {
      queued.decrementAndGet();
      throw new RejectedExecutionException("node loop closed");
    }
  }

  /**
   * Runs queued tasks on this thread while nobody else does, up to the budget. Whoever stops
   * running looks at the queue again after letting go, so a task queued meanwhile by a thread that
   * saw the core busy is never left behind.
   */
  private void runHere() {
    int ran = 0;
    while (running.compareAndSet(false, true)) {
      // The core's work is not part of the request that happens to run it: a stream it opens must
      // not die when that request's gRPC context is cancelled, nor carry its values.
      Context previous = Context.ROOT.attach();
      try {
        Runnable next;
        while (ran < INLINE_BUDGET && (next = tasks.poll()) != null) {
          queued.decrementAndGet();
          next.run();
          ran++;
        }
      } finally {
        Context.ROOT.detach(previous);
        running.set(false);
      }
      if (tasks.isEmpty()) {
        return;
      }
      if (ran >= INLINE_BUDGET) {
        LockSupport.unpark(thread); // the loop thread takes the rest
        return;
      }
    }
  }

  private void runLoopThread() {
    while (true) {
      if (!tasks.isEmpty() && running.compareAndSet(false, true)) {
        try {
          Runnable next;
          while ((next = tasks.poll()) != null) {
            queued.decrementAndGet();
            next.run();
          }
        } finally {
          running.set(false);
        }
        continue;
      }
      if (closed && (tasks.isEmpty() || fatal != null)) {
        return;
      }
      // Another thread running the core looks at the queue again when it lets go (runHere).
      LockSupport.parkNanos(this, IDLE_PARK_NANOS);
      if (Thread.interrupted() && closed) {
        return;
      }
    }
  }

  private void runTask(LongConsumer task) {
    if (fatal != null) {
      return; // the node stopped: nothing after the broken invariant runs
    }
    try {
      task.accept(clock.getAsLong());
    } catch (Throwable t) {
      fatal = t;
      log.error("FATAL: protocol invariant broken, stopping this node's core", t);
      ticker.shutdownNow();
      tasks.clear();
      queued.set(0);
    }
  }

  /** Runs what is already queued (waiting up to 5 s), then stops; later tasks are refused. */
  @Override
  public void close() {
    closed = true;
    ticker.shutdownNow();
    LockSupport.unpark(thread);
    try {
      thread.join(5_000);
      if (thread.isAlive()) {
        thread.interrupt();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      thread.interrupt();
    }
  }
}
