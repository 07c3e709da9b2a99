package io.decree.participant;

import io.decree.core.Message;
import io.decree.core.TxId;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Inbound RPCs waiting for the core's answer. The wire is request/response, the core is message
 * based: an inbound call is parked here under (transaction, kind, asker) and completed by the first
 * matching message the core sends. Owned by the core's loop thread only.
 *
 * <p>Bounded: {@code max} waiters in all, {@link #PER_KEY_MAX} per key (a coordinator that retries
 * faster than we answer gets UNAVAILABLE, not more memory). Waiters leave when answered, when their
 * call is cancelled (which includes its deadline passing), or after {@code timeoutMillis}.
 */
final class PendingReplies {
  enum Kind {
    PREPARE,
    PHASE_TWO,
    ONE_PHASE,
    QUERY
  }

  /**
   * @param asker only for {@link Kind#QUERY}: the name the reply is addressed to; "" otherwise
   */
  record Key(TxId txId, Kind kind, String asker) {}

  /** One parked call: exactly one of its callbacks runs, once. */
  static final class Waiter {
    final long sinceMillis;
    final Consumer<Message> onReply;
    final Consumer<Status> onFailure;

    Waiter(long sinceMillis, Consumer<Message> onReply, Consumer<Status> onFailure) {
      this.sinceMillis = sinceMillis;
      this.onReply = onReply;
      this.onFailure = onFailure;
    }
  }

  static final int PER_KEY_MAX = 16;

  private final Map<Key, List<Waiter>> waiting = new HashMap<>();
  private final int max;
  private int size;

  PendingReplies(int max) {
    this.max = max;
  }

  /** Parks {@code waiter}; false (nothing parked) when a bound is reached. */
  boolean add(Key key, Waiter waiter) {
    List<Waiter> list = waiting.computeIfAbsent(key, k -> new ArrayList<>(1));
    if (size >= max || list.size() >= PER_KEY_MAX) {
      if (list.isEmpty()) {
        waiting.remove(key);
      }
      return false;
    }
    list.add(waiter);
    size++;
    return true;
  }

  /**
   * Completes every call parked under {@code key} with {@code reply}; none: the reply is dropped.
   */
  void complete(Key key, Message reply) {
    List<Waiter> list = waiting.remove(key);
    if (list != null) {
      size -= list.size();
      list.forEach(w -> w.onReply.accept(reply));
    }
  }

  /** The call went away (cancelled, deadline passed): forget it without answering. */
  void remove(Key key, Waiter waiter) {
    List<Waiter> list = waiting.get(key);
    if (list != null && list.remove(waiter)) {
      size--;
      if (list.isEmpty()) {
        waiting.remove(key);
      }
    }
  }

  /** Fails every call parked longer than {@code timeoutMillis}. */
  void expire(long nowMillis, long timeoutMillis, Status status) {
    Iterator<Map.Entry<Key, List<Waiter>>> entries = waiting.entrySet().iterator();
    List<Waiter> expired = new ArrayList<>();
    while (entries.hasNext()) {
      List<Waiter> list = entries.next().getValue();
      Iterator<Waiter> it = list.iterator();
      while (it.hasNext()) {
        Waiter w = it.next();
        if (nowMillis - w.sinceMillis >= timeoutMillis) {
          it.remove();
          size--;
          expired.add(w);
        }
      }
      if (list.isEmpty()) {
        entries.remove();
      }
    }
    expired.forEach(w -> w.onFailure.accept(status));
  }

  /** Fails everything; used at shutdown. */
  void failAll(Status status) {
    List<Waiter> all = new ArrayList<>();
    waiting.values().forEach(all::addAll);
    waiting.clear();
    size = 0;
    all.forEach(w -> w.onFailure.accept(status));
  }

  int size() {
    return size;
  }
}
