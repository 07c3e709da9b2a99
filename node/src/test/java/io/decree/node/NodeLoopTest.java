package io.decree.node;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BiConsumer;
import java.util.function.LongConsumer;
import org.junit.jupiter.api.Test;

class NodeLoopTest {

  @Test
  void tasksFromManyThreadsRunOneAtATimeAndInEachThreadsOrder() throws Exception {
    int threads = 8;
    int perThread = 5_000;
    AtomicInteger inside = new AtomicInteger();
    AtomicInteger overlaps = new AtomicInteger();
    int[] lastSeen = new int[threads]; // written only by tasks: the loop's exclusion guards it
    AtomicInteger outOfOrder = new AtomicInteger();
    CountDownLatch allRan = new CountDownLatch(threads * perThread);
    try (NodeLoop loop =
        new NodeLoop("test-loop", threads * perThread, System::currentTimeMillis)) {
      List<Thread> producers = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int producer = t;
        Thread p =
            new Thread(
                () -> {
                  for (int i = 1; i <= perThread; i++) {
                    int seq = i;
                    java.util.function.LongConsumer task =
                        now -> {
                          if (inside.incrementAndGet() != 1) {
                            overlaps.incrementAndGet();
                          }
                          if (lastSeen[producer] != seq - 1) {
                            outOfOrder.incrementAndGet();
                          }
                          lastSeen[producer] = seq;
                          inside.decrementAndGet();
                          allRan.countDown();
                        };
                    // Half the producers run tasks themselves when they can, half hand them over.
                    if (producer % 2 == 0) {
                      loop.executeHere(task);
                    } else {
                      loop.execute(task);
                    }
                  }
                });
        producers.add(p);
        p.start();
      }
      for (Thread p : producers) {
        p.join(60_000);
      }
      assertThat(allRan.await(60, TimeUnit.SECONDS)).isTrue();
    }
    assertThat(overlaps).hasValue(0);
    assertThat(outOfOrder).hasValue(0);
  }

  @Test
  void anIdleLoopRunsExecuteHereOnTheCallersThread() {
    try (NodeLoop loop = new NodeLoop("test-loop", 16, () -> 42L)) {
      AtomicReference<Thread> ranOn = new AtomicReference<>();
      AtomicInteger now = new AtomicInteger();
      loop.executeHere(
          t -> {
            ranOn.set(Thread.currentThread());
            now.set((int) t);
          });
      assertThat(ranOn.get()).isSameAs(Thread.currentThread());
      assertThat(now).hasValue(42);
    }
  }

  @Test
  void aTaskRunHereIsDetachedFromTheCallersGrpcContext() throws Exception {
    io.grpc.Context.Key<String> key = io.grpc.Context.key("request");
    io.grpc.Context.CancellableContext request =
        io.grpc.Context.current().withValue(key, "business call").withCancellation();
    AtomicReference<io.grpc.Context> seen = new AtomicReference<>();
    try (NodeLoop loop = new NodeLoop("test-loop", 16, System::currentTimeMillis)) {
      request.run(() -> loop.executeHere(now -> seen.set(io.grpc.Context.current())));
      request.cancel(null);
    }
    // A stream the core opened here must outlive the request that happened to run the task.
    assertThat(seen.get().isCancelled()).isFalse();
    assertThat(key.get(seen.get())).isNull();
  }

  @Test
  void aTaskQueuedFromInsideATaskRunsAfterItNotNestedInIt() {
    try (NodeLoop loop = new NodeLoop("test-loop", 16, System::currentTimeMillis)) {
      List<String> events = new ArrayList<>();
      loop.executeHere(
          now -> {
            events.add("outer start");
            loop.executeHere(n -> events.add("inner"));
            events.add("outer end");
          });
      assertThat(events).containsExactly("outer start", "outer end", "inner");
    }
  }

  @Test
  void aCallerRunsAtMostItsBudgetAndTheLoopThreadRunsTheRest() throws Exception {
    int tasks = NodeLoop.INLINE_BUDGET * 3;
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch allRan = new CountDownLatch(tasks);
    AtomicInteger onCaller = new AtomicInteger();
    AtomicInteger onLoopThread = new AtomicInteger();
    try (NodeLoop loop = new NodeLoop("test-loop", tasks + 1, System::currentTimeMillis)) {
      // The caller runs a task itself and holds the core while the others queue up behind it.
      Thread caller =
          new Thread(
              () ->
                  loop.executeHere(
                      now -> {
                        holding.countDown();
                        try {
                          release.await(10, TimeUnit.SECONDS);
                        } catch (InterruptedException e) {
                          Thread.currentThread().interrupt();
                        }
                      }),
              "caller");
      caller.start();
      assertThat(holding.await(10, TimeUnit.SECONDS)).isTrue();
      for (int i = 0; i < tasks; i++) {
        loop.execute(
            now -> {
              (Thread.currentThread() == caller ? onCaller : onLoopThread).incrementAndGet();
              allRan.countDown();
            });
      }
      release.countDown();
      assertThat(allRan.await(10, TimeUnit.SECONDS)).isTrue();
      caller.join(10_000);
    }
    // The caller's budget counts its own task: it ran BUDGET - 1 of the queued ones.
    assertThat(onCaller).hasValue(NodeLoop.INLINE_BUDGET - 1);
    assertThat(onLoopThread).hasValue(tasks - (NodeLoop.INLINE_BUDGET - 1));
  }

  @Test
  void aFullQueueRefusesWork() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    try (NodeLoop loop = new NodeLoop("test-loop", 2, System::currentTimeMillis)) {
      holdTheCore(loop, release);
      loop.execute(now -> {});
      loop.executeHere(now -> {}); // queued: the loop thread holds the core
      assertThatThrownBy(() -> loop.execute(now -> {}))
          .isInstanceOf(RejectedExecutionException.class)
          .hasMessageContaining("queue full (2 tasks waiting)");
      assertThat(loop.tryExecuteHere(now -> {})).isFalse();
      release.countDown();
    }
  }

  @Test
  void executeEventuallyWaitsForRoomInsteadOfLosingTheTask() throws Exception {
    aFullQueueDelaysButNeverLoses(NodeLoop::executeEventually);
  }

  @Test
  void executeHereEventuallyWaitsForRoomInsteadOfLosingTheTask() throws Exception {
    aFullQueueDelaysButNeverLoses(NodeLoop::executeHereEventually);
  }

  @Test
  void executeHereEventuallyRunsOnTheCallersThreadWhenTheCoreIsFree() {
    try (NodeLoop loop = new NodeLoop("test-loop", 4, System::currentTimeMillis)) {
      List<Thread> ranOn = new ArrayList<>();
      loop.executeHereEventually(now -> ranOn.add(Thread.currentThread()));
      assertThat(ranOn).containsExactly(Thread.currentThread());
    }
  }

  private static void aFullQueueDelaysButNeverLoses(BiConsumer<NodeLoop, LongConsumer> submit)
      throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    CountDownLatch ran = new CountDownLatch(1);
    try (NodeLoop loop = new NodeLoop("test-loop", 1, System::currentTimeMillis)) {
      holdTheCore(loop, release);
      loop.execute(now -> {}); // the queue is full now (the first task is running)
      submit.accept(loop, now -> ran.countDown());
      Thread.sleep(3 * NodeLoop.RETRY_MILLIS);
      assertThat(ran.getCount()).isEqualTo(1);
      release.countDown();
      assertThat(ran.await(10, TimeUnit.SECONDS)).isTrue();
    }
  }

  /**
   * Runs a task on the loop thread that holds the core until {@code release}; returns once it does.
   */
  private static void holdTheCore(NodeLoop loop, CountDownLatch release) throws Exception {
    CountDownLatch started = new CountDownLatch(1);
    loop.execute(
        now -> {
          started.countDown();
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void aTaskThatThrowsStopsTheLoopForGood() {
    try (NodeLoop loop = new NodeLoop("test-loop", 16, System::currentTimeMillis)) {
      AtomicInteger ranAfter = new AtomicInteger();
      loop.executeHere(
          now -> {
            throw new IllegalStateException("broken invariant");
          });
      assertThat(loop.fatalError()).hasMessage("broken invariant");
      assertThatThrownBy(() -> loop.executeHere(now -> ranAfter.incrementAndGet()))
          .isInstanceOf(RejectedExecutionException.class)
          .hasMessageContaining("broken invariant");
      assertThat(loop.tryExecute(now -> ranAfter.incrementAndGet())).isFalse();
      assertThat(ranAfter).hasValue(0);
    }
  }

  @Test
  void closeRunsWhatIsQueuedThenRefuses() throws Exception {
    NodeLoop loop = new NodeLoop("test-loop", 100, System::currentTimeMillis);
    AtomicInteger ran = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    loop.execute(
        now -> {
          try {
            release.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        });
    for (int i = 0; i < 50; i++) {
      loop.execute(now -> ran.incrementAndGet());
    }
    Thread closer = new Thread(loop::close);
    closer.start();
    release.countDown();
    closer.join(10_000);
    assertThat(ran).hasValue(50);
    assertThatThrownBy(() -> loop.execute(now -> {}))
        .isInstanceOf(RejectedExecutionException.class)
        .hasMessageContaining("closed");
  }
}
