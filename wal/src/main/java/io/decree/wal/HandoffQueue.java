package io.decree.wal;

import java.util.Collection;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * A bounded many-producer, one-consumer queue from appenders to the WAL writer.
 *
 * <p>Why not {@link java.util.concurrent.ArrayBlockingQueue}: it takes one lock for every offer and
 * for the writer's drain. With dozens of appenders on a small machine, an appender that is
 * descheduled while holding it stalls the others and the writer, and each contended acquisition
 * costs a park and an unpark. Here an offer is a CAS on the capacity {@link Semaphore} and one on a
 * {@link ConcurrentLinkedQueue}; producers only pay for an unpark when the consumer is actually
 * parked.
 *
 * <p>Bounded: {@code capacity} permits; a producer blocks (timed, so it can notice a close) while
 * all are taken, and the consumer returns permits as it takes items. The consumer itself never
 * waits for room ({@link #offerFromConsumer}): it is the one thread that makes room. Exactly one
 * thread may call the consumer methods ({@link #poll}, {@link #drainTo}, {@link
 * #offerFromConsumer}); {@link #remove} and {@link #drainTo} may also be used once the consumer has
 * stopped.
 */
final class HandoffQueue<T> {
  private final ConcurrentLinkedQueue<T> items = new ConcurrentLinkedQueue<>();
  private final Semaphore free;

  /** The consumer thread; set by its first poll. */
  private volatile Thread consumer;

  /**
   * Set by the consumer just before it parks and re-checks the queue; a producer that sees it set
   * after adding its item unparks the consumer. The volatile write then read on the consumer side
   * and the CAS then volatile read on the producer side mean at least one of them sees the other.
   */
  private volatile boolean consumerParked;

  /**
   * Items the consumer added without a permit (none was free) and not yet taken back out: that many
   * takes return no permit. Consumer thread only (and a drain after the consumer stopped).
   */
  private int unpermitted;

  HandoffQueue(int capacity) {
    this.free = new Semaphore(capacity);
  }

  /** Adds {@code item}, waiting up to {@code timeout} for room; false if there was none. */
  boolean offer(T item, long timeout, TimeUnit unit) throws InterruptedException {
    if (!free.tryAcquire(timeout, unit)) {
      return false;
    }
    items.add(item);
    if (consumerParked) {
      Thread c = consumer;
      if (c != null) {
        LockSupport.unpark(c);
      }
    }
    return true;
  }

  /**
   * Consumer only: adds {@code item} at the tail without waiting for room: it takes a permit if one
   * is free and goes beyond the capacity if none is. For work the consumer's own callbacks produce:
   * waiting for room there would wait for the consumer, that is forever. What bounds the overflow
   * is the producer of that work (for the WAL: a protocol core, whose limits on transactions and
   * branches in flight bound what it appends).
   */
  void offerFromConsumer(T item) {
    if (!free.tryAcquire()) {
      unpermitted++;
    }
    items.add(item);
  }

  /**
   * Consumer only: the next item, spinning for up to {@code spinNanos} (an item arriving within
   * that costs no park/unpark pair) and then parking for up to {@code timeout}; null if none came.
   */
  T poll(long spinNanos, long timeout, TimeUnit unit) throws InterruptedException {
    T item = take();
    if (item != null) {
      return item;
    }
    long now = System.nanoTime();
    long spinEnd = now + spinNanos;
    while ((item = take()) == null && System.nanoTime() - spinEnd < 0) {
      Thread.onSpinWait();
    }
    if (item != null) {
      return item;
    }
    if (consumer == null) {
      consumer = Thread.currentThread();
    }
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    while (true) {
      consumerParked = true;
      try {
        item = take();
        if (item != null) {
          return item;
        }
        long left = deadline - System.nanoTime();
        if (left <= 0) {
          return null;
        }
        LockSupport.parkNanos(this, left);
        if (Thread.interrupted()) {
          throw new InterruptedException();
        }
      } finally {
        consumerParked = false;
      }
    }
  }

  /** Moves up to {@code max} items into {@code to}; returns how many. */
  int drainTo(Collection<? super T> to, int max) {
    int n = 0;
    T item;
    while (n < max && (item = items.poll()) != null) {
      to.add(item);
      n++;
    }
    returnPermits(n);
    return n;
  }

  /** Removes one specific item (used when a close races an offer); true if it was still here. */
  boolean remove(T item) {
    if (items.remove(item)) {
      free.release();
      return true;
    }
    return false;
  }

  /** True if no item waits (a snapshot: a producer may add one right after). */
  boolean isEmpty() {
    return items.isEmpty();
  }

  private T take() {
    T item = items.poll();
    if (item != null) {
      returnPermits(1);
    }
    return item;
  }

  /** Items are alike as far as room goes: the first takes after unpermitted adds return none. */
  private void returnPermits(int taken) {
    int owed = Math.min(taken, unpermitted);
    unpermitted -= owed;
    if (taken > owed) {
      free.release(taken - owed);
    }
  }
}
