package io.decree.core.sim;

import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.function.Consumer;

/**
 * A simulated network between named nodes: it delays, drops, duplicates and reorders messages, and
 * cuts links (partitions). Faults stop when {@link #heal()} is called.
 */
final class SimNetwork {
  private final Scheduler scheduler;
  private final Random random;
  private final SimOptions options;
  private final Set<String> cutLinks = new HashSet<>();
  private boolean faulty = true;
  long delivered;
  long dropped;
  long duplicated;

  SimNetwork(Scheduler scheduler, Random random, SimOptions options) {
    this.scheduler = scheduler;
    this.random = random;
    this.options = options;
  }

  /** Schedules delivery of a message from {@code from} to {@code to}. */
  <M> void send(String from, String to, M message, Consumer<M> deliver) {
    if (faulty && (cutLinks.contains(link(from, to)) || random.nextDouble() < options.dropRate())) {
      dropped++;
      return;
    }
    int copies = faulty && random.nextDouble() < options.duplicateRate() ? 2 : 1;
    if (copies == 2) {
      duplicated++;
    }
    for (int i = 0; i < copies; i++) {
      // Random delays reorder messages on the same link.
      long delay = 1 + random.nextInt(options.maxDelayMillis());
      scheduler.after(
          delay,
          () -> {
            if (faulty && cutLinks.contains(link(from, to))) {
              dropped++;
              return;
            }
            delivered++;
            deliver.accept(message);
          });
    }
  }

  /** Cuts both directions between two nodes. */
  void partition(String a, String b) {
    cutLinks.add(link(a, b));
    cutLinks.add(link(b, a));
  }

  /** Restores both directions between two nodes. */
  void reconnect(String a, String b) {
    cutLinks.remove(link(a, b));
    cutLinks.remove(link(b, a));
  }

  /** Whether a message from {@code from} to {@code to} can get through now (loss aside). */
  boolean connected(String from, String to) {
    return !faulty || !cutLinks.contains(link(from, to));
  }

  void heal() {
    cutLinks.clear();
    faulty = false;
  }

  void reconnectAll() {
    cutLinks.clear();
  }

  private static String link(String from, String to) {
    return from + "->" + to;
  }
}
