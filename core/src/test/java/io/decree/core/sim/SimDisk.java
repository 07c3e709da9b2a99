package io.decree.core.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's log on a simulated disk: appended records are pending until a sync makes them durable; a
 * crash loses every pending record. A failed sync leaves a random prefix of the pending records on
 * disk, as a real failed fsync may.
 */
final class SimDisk<R> {
  private final List<R> synced = new ArrayList<>();
  private final List<R> pending = new ArrayList<>();

  void append(R record) {
    pending.add(record);
  }

  /** Makes every pending record durable and returns them. */
  List<R> sync() {
    List<R> done = new ArrayList<>(pending);
    synced.addAll(pending);
    pending.clear();
    return done;
  }

  /** A failed sync: returns the pending records; a random prefix of them reached the disk. */
  List<R> failSync(java.util.Random random) {
    List<R> affected = new ArrayList<>(pending);
    synced.addAll(pending.subList(0, random.nextInt(pending.size() + 1)));
    pending.clear();
    return affected;
  }

  void crash() {
    pending.clear();
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  List<R> synced() {
    return synced;
  }
}
