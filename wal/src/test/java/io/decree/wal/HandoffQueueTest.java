package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class HandoffQueueTest {
  @Test
  void isBoundedAndTakingReturnsRoom() throws Exception {
    HandoffQueue<Integer> q = new HandoffQueue<>(2);
    assertThat(q.offer(1, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.offer(2, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.offer(3, 1, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(q.poll(0, 1, TimeUnit.MILLISECONDS)).isEqualTo(1);
    assertThat(q.offer(3, 1, TimeUnit.MILLISECONDS)).isTrue();
    List<Integer> drained = new ArrayList<>();
    assertThat(q.drainTo(drained, 10)).isEqualTo(2);
    assertThat(drained).containsExactly(2, 3);
    assertThat(q.isEmpty()).isTrue();
    assertThat(q.poll(0, 1, TimeUnit.MILLISECONDS)).isNull();
  }

  @Test
  void theConsumerAddsBeyondTheCapacityAtTheTailAndThoseAddsTakeNoRoom() throws Exception {
    HandoffQueue<Integer> q = new HandoffQueue<>(2);
    assertThat(q.offer(1, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.offer(2, 1, TimeUnit.MILLISECONDS)).isTrue();
    q.offerFromConsumer(3); // full: a producer would wait here, the consumer must not
    q.offerFromConsumer(4);
    assertThat(q.offer(5, 1, TimeUnit.MILLISECONDS)).isFalse();
    List<Integer> drained = new ArrayList<>();
    assertThat(q.drainTo(drained, 3)).isEqualTo(3);
    assertThat(q.poll(0, 1, TimeUnit.MILLISECONDS)).isEqualTo(4);
    assertThat(drained).containsExactly(1, 2, 3);
    // Empty again, with exactly the capacity free: the consumer's adds returned no permits.
    assertThat(q.offer(6, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.offer(7, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.offer(8, 1, TimeUnit.MILLISECONDS)).isFalse();
  }

  @Test
  void theConsumerTakesRoomWhileThereIsSome() throws Exception {
    HandoffQueue<Integer> q = new HandoffQueue<>(2);
    q.offerFromConsumer(1); // room was free: it is taken, as a producer's offer would take it
    assertThat(q.offer(2, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.offer(3, 1, TimeUnit.MILLISECONDS)).isFalse();
    assertThat(q.poll(0, 1, TimeUnit.MILLISECONDS)).isEqualTo(1);
    assertThat(q.offer(3, 1, TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void removeGivesBackRoom() throws Exception {
    HandoffQueue<String> q = new HandoffQueue<>(1);
    String item = "a";
    assertThat(q.offer(item, 1, TimeUnit.MILLISECONDS)).isTrue();
    assertThat(q.remove(item)).isTrue();
    assertThat(q.remove(item)).isFalse();
    assertThat(q.offer("b", 1, TimeUnit.MILLISECONDS)).isTrue();
  }

  @Test
  void aParkedConsumerIsWokenByAnOffer() throws Exception {
    HandoffQueue<Integer> q = new HandoffQueue<>(4);
    List<Integer> got = new ArrayList<>();
    Thread consumer =
        new Thread(
            () -> {
              try {
                // No spin: the consumer parks at once and must be unparked by the producer.
                Integer item = q.poll(0, 60, TimeUnit.SECONDS);
                synchronized (got) {
                  got.add(item);
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            });
    consumer.start();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (consumer.getState() != Thread.State.TIMED_WAITING && System.nanoTime() < deadline) {
      Thread.onSpinWait();
    }
    assertThat(q.offer(7, 1, TimeUnit.SECONDS)).isTrue();
    consumer.join(30_000);
    assertThat(consumer.isAlive()).isFalse();
    synchronized (got) {
      assertThat(got).containsExactly(7);
    }
  }
}
