package io.decree.core.sim;

import java.util.PriorityQueue;

/** Simulated time: events run one at a time in (time, insertion) order. Deterministic. */
final class Scheduler {
  private record Event(long atMillis, long seq, Runnable action) {}

  private final PriorityQueue<Event> queue =
      new PriorityQueue<>(
          (a, b) ->
              a.atMillis != b.atMillis
                  ? Long.compare(a.atMillis, b.atMillis)
                  : Long.compare(a.seq, b.seq));
  private long nowMillis = 1_700_000_000_000L;
  private long seq;

  long now() {
    return nowMillis;
  }

  void after(long delayMillis, Runnable action) {
    queue.add(new Event(nowMillis + Math.max(0, delayMillis), seq++, action));
  }

  /** Runs the next event; false when none is left or the next is past {@code untilMillis}. */
  boolean step(long untilMillis) {
    Event next = queue.peek();
    if (next == null || next.atMillis > untilMillis) {
      return false;
    }
    queue.poll();
    nowMillis = next.atMillis;
    next.action.run();
    return true;
  }

  void advanceTo(long millis) {
    nowMillis = Math.max(nowMillis, millis);
  }
}
