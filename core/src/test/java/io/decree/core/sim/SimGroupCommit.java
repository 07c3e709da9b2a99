package io.decree.core.sim;

import java.util.ArrayList;
import java.util.List;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * A node's group commit on its simulated disk: appends wait for the next sync, one sync (after a
 * random short delay) serves all of them, and a sync may fail while faults are on. A crash drops
 * the waiting appends, and a sync scheduled before it does nothing.
 */
final class SimGroupCommit<R> {
  private final Simulation sim;
  private final SimDisk<R> disk;
  private final BiConsumer<Boolean, List<R>> onSync;
  private final Runnable afterCallbacks;
  private final List<Consumer<Boolean>> waiting = new ArrayList<>();
  private boolean scheduled;
  private int epoch;

  /**
   * @param onSync node bookkeeping right after a sync: whether it succeeded and which records it
   *     covered (on failure some of them may still have reached the disk)
   * @param afterCallbacks runs once every waiting append has heard the result (a node's flush)
   */
  SimGroupCommit(
      Simulation sim,
      SimDisk<R> disk,
      BiConsumer<Boolean, List<R>> onSync,
      Runnable afterCallbacks) {
    this.sim = sim;
    this.disk = disk;
    this.onSync = onSync;
    this.afterCallbacks = afterCallbacks;
  }

  /** Appends {@code record}; {@code onResult} hears whether the next sync succeeded. */
  void append(R record, Consumer<Boolean> onResult) {
    disk.append(record);
    awaitSync(onResult);
  }

  /** Appends {@code record} without asking for a sync: it is durable once another append's is. */
  void appendLazily(R record) {
    disk.append(record);
  }

  /** Appends a checkpoint (see {@link SimDisk}); the next sync makes it durable. */
  void appendCheckpoint(List<R> content, long horizon) {
    disk.appendCheckpoint(content, horizon);
    awaitSync(ok -> {});
  }

  /** Waits for the next sync without appending (e.g. for a record appended earlier). */
  void awaitSync(Consumer<Boolean> onResult) {
    waiting.add(onResult);
    if (scheduled) {
      return;
    }
    scheduled = true;
    int forEpoch = epoch;
    sim.scheduler()
        .after(
            1 + sim.random().nextInt(5),
            () -> {
              if (epoch != forEpoch) {
                return;
              }
              scheduled = false;
              boolean ok =
                  !sim.faulty() || sim.random().nextDouble() >= sim.options().syncFailureRate();
              List<R> affected = ok ? disk.sync() : disk.failSync(sim.random());
              onSync.accept(ok, affected);
              List<Consumer<Boolean>> callbacks = new ArrayList<>(waiting);
              waiting.clear();
              callbacks.forEach(c -> c.accept(ok));
              afterCallbacks.run();
            });
  }

  /** The process died: unsynced records are lost, nobody waiting hears anything. */
  void crash() {
    disk.crash();
    waiting.clear();
    scheduled = false;
    epoch++;
  }
}
