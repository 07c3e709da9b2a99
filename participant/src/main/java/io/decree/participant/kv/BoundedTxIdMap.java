package io.decree.participant.kv;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Transaction ids in insertion order with a value each, forgetting the oldest beyond a limit. Its
 * own monitor guards it; callers hold no other lock of the store while waiting for it except the
 * branch monitor and the checkpoint lock, which are always taken before it.
 */
final class BoundedTxIdMap<V> {
  private final int max;
  private final LinkedHashMap<String, V> entries = new LinkedHashMap<>();
  private long forgotten;

  BoundedTxIdMap(int max) {
    this.max = max;
  }

  synchronized boolean contains(String txId) {
    return entries.containsKey(txId);
  }

  synchronized V get(String txId) {
    return entries.get(txId);
  }

  /** Adds or re-adds (moving it to the newest end) and forgets the oldest beyond the limit. */
  synchronized void put(String txId, V value) {
    entries.remove(txId);
    entries.put(txId, value);
    var it = entries.entrySet().iterator();
    while (entries.size() > max) {
      it.next();
      it.remove();
      forgotten++;
    }
  }

  synchronized void replaceAll(Map<String, V> inOrder) {
    entries.clear();
    for (Map.Entry<String, V> e : inOrder.entrySet()) {
      put(e.getKey(), e.getValue());
    }
  }

  /** A copy, oldest first. */
  synchronized List<Map.Entry<String, V>> entries() {
    List<Map.Entry<String, V>> copy = new ArrayList<>(entries.size());
    for (Map.Entry<String, V> e : entries.entrySet()) {
      copy.add(Map.entry(e.getKey(), e.getValue()));
    }
    return copy;
  }

  synchronized int size() {
    return entries.size();
  }

  /** How many ids were dropped for the limit since this map was made. */
  synchronized long forgotten() {
    return forgotten;
  }
}
