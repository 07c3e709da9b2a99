package io.decree.core.sim;

import java.util.ArrayList;
import java.util.List;

/**
 * A node's log on a simulated disk: appended records are pending until a sync makes them durable; a
 * crash loses every pending record. A failed sync leaves a random prefix of the pending records on
 * disk, as a real failed fsync may.
 *
 * <p>A checkpoint is appended like a record; once it is durable, everything before it is dropped
 * and its content takes that place, as a real log deletes the files before a durable checkpoint.
 */
final class SimDisk<R> {
  private final List<R> synced = new ArrayList<>();
  private final List<R> pending = new ArrayList<>();

  /** A checkpoint waiting for a sync, placed before {@code pending[at]}. */
  private record PendingCheckpoint<R>(int at, List<R> content, long horizon) {}

  private final List<PendingCheckpoint<R>> pendingCheckpoints = new ArrayList<>();
  private long horizon;

  void append(R record) {
    pending.add(record);
  }

  void appendCheckpoint(List<R> content, long horizon) {
    pendingCheckpoints.add(new PendingCheckpoint<>(pending.size(), List.copyOf(content), horizon));
  }

  /** Makes every pending record durable and returns them. */
  List<R> sync() {
    return persist(pending.size(), true);
  }

  /** A failed sync: returns the pending records; a random prefix of them reached the disk. */
  List<R> failSync(java.util.Random random) {
    return persist(random.nextInt(pending.size() + 1), false);
  }

  /**
   * The first {@code count} pending records reach the disk, with the checkpoints among them (one
   * after the last of them only if everything did).
   */
  private List<R> persist(int count, boolean all) {
    List<R> affected = new ArrayList<>(pending);
    int from = 0;
    for (PendingCheckpoint<R> c : pendingCheckpoints) {
      if (c.at() > count || (c.at() == count && !all)) {
        break;
      }
      // Whatever lay before it is in it (or was forgotten): the log keeps only the checkpoint.
      synced.clear();
      synced.addAll(c.content());
      horizon = c.horizon();
      from = c.at();
    }
    synced.addAll(pending.subList(from, count));
    pending.clear();
    pendingCheckpoints.clear();
    return affected;
  }

  void crash() {
    pending.clear();
    pendingCheckpoints.clear();
  }

  boolean hasPending() {
    return !pending.isEmpty();
  }

  List<R> synced() {
    return synced;
  }

  /** The horizon of the last durable checkpoint (0 without one). */
  long horizon() {
    return horizon;
  }
}
