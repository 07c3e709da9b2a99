package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.participant.spi.ResourceManager.PrepareResult;
import io.decree.participant.spi.ResourceManager.Vote;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.SortedMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Many threads move money between a few accounts, half of them in the deadlock-prone way (read with
 * shared locks, write later, in random key order) and retrying after lock timeouts. Checkpoints run
 * in the middle. No update may be lost: the total is conserved at every consistent read, each
 * account ends with exactly its start plus the transfers that committed, and a restart shows the
 * same.
 */
class KvConcurrentTransferTest {
  private static final int ACCOUNTS = 6;
  private static final long START_BALANCE = 1_000;
  private static final int THREADS = 8;
  private static final int TRANSFERS_PER_THREAD = 120;

  @Test
  void concurrentTransfersLoseNoUpdate() throws Exception {
    KvConfig config = KvConfig.builder().lockTimeoutMillis(25).checkpointEveryCommits(50).build();
    try (KvHarness h = KvHarness.open(config)) {
      Map<String, Long> start = new HashMap<>();
      for (int i = 0; i < ACCOUNTS; i++) {
        start.put(account(i), START_BALANCE);
      }
      h.commit("init", start);
      long total = START_BALANCE * ACCOUNTS;

      Map<String, AtomicLong> committedDelta = new ConcurrentHashMap<>();
      AtomicInteger committedTransfers = new AtomicInteger();
      AtomicInteger lockTimeouts = new AtomicInteger();
      AtomicBoolean done = new AtomicBoolean();
      ExecutorService pool = Executors.newFixedThreadPool(THREADS + 1);
      try {
        Future<Integer> auditor =
            pool.submit(
                () -> {
                  int audits = 0;
                  while (!done.get()) {
                    SortedMap<String, Long> all = h.store.readCommittedAll();
                    long sum = all.values().stream().mapToLong(Long::longValue).sum();
                    assertThat(sum).as("total seen by readCommittedAll").isEqualTo(total);
                    audits++;
                    Thread.sleep(1); // leave commits room; the write side holds them off
                  }
                  return audits;
                });
        List<Future<?>> workers = new ArrayList<>();
        for (int t = 0; t < THREADS; t++) {
          int thread = t;
          workers.add(
              pool.submit(
                  () -> {
                    Random random = new Random(thread);
                    for (int n = 0; n < TRANSFERS_PER_THREAD; n++) {
                      int from = random.nextInt(ACCOUNTS);
                      int to = (from + 1 + random.nextInt(ACCOUNTS - 1)) % ACCOUNTS;
                      long amount = 1 + random.nextInt(50);
                      boolean careful = thread % 2 == 0;
                      for (int attempt = 0; ; attempt++) {
                        String txId = "x" + thread + "-" + n + "-" + attempt;
                        try {
                          if (transfer(h, txId, account(from), account(to), amount, careful)) {
                            committedDelta
                                .computeIfAbsent(account(from), k -> new AtomicLong())
                                .addAndGet(-amount);
                            committedDelta
                                .computeIfAbsent(account(to), k -> new AtomicLong())
                                .addAndGet(amount);
                            committedTransfers.incrementAndGet();
                          }
                          break;
                        } catch (LockTimeoutException e) {
                          lockTimeouts.incrementAndGet();
                          h.rm.rollback(txId, new byte[0]);
                          if (attempt > 200) {
                            throw new AssertionError("transfer never got through", e);
                          }
                        }
                      }
                    }
                    return null;
                  }));
        }
        for (Future<?> w : workers) {
          w.get(60, TimeUnit.SECONDS);
        }
        done.set(true);
        assertThat(auditor.get(5, TimeUnit.SECONDS)).isPositive();
      } finally {
        pool.shutdownNow();
      }

      Map<String, Long> expected = new HashMap<>();
      for (int i = 0; i < ACCOUNTS; i++) {
        AtomicLong delta = committedDelta.get(account(i));
        expected.put(account(i), START_BALANCE + (delta == null ? 0 : delta.get()));
      }
      assertThat(h.store.readCommittedAll()).isEqualTo(expected);
      assertThat(committedTransfers.get()).isPositive();
      assertThat(h.store.openBranchCount()).isZero();
      assertThat(h.store.locks().lockedKeyCount()).isZero();

      h.restart();
      h.rm.recover(List.of());
      assertThat(h.store.readCommittedAll()).isEqualTo(expected);
      System.out.printf(
          "transfers committed: %d, lock timeouts retried: %d%n",
          committedTransfers.get(), lockTimeouts.get());
    }
  }

  /**
   * One transfer as an account service and the runtime would run it. Returns whether money moved
   * (false: not enough balance, the branch was read-only).
   */
  private static boolean transfer(
      KvHarness h, String txId, String from, String to, long amount, boolean careful)
      throws Exception {
    long fromBalance;
    long toBalance;
    if (careful) {
      // Exclusive locks in key order: no upgrade, no cycle, no deadlock.
      boolean fromFirst = from.compareTo(to) < 0;
      long first = h.store.getForUpdate(txId, fromFirst ? from : to);
      long second = h.store.getForUpdate(txId, fromFirst ? to : from);
      fromBalance = fromFirst ? first : second;
      toBalance = fromFirst ? second : first;
    } else {
      fromBalance = h.store.get(txId, from);
      toBalance = h.store.get(txId, to);
    }
    if (fromBalance >= amount) {
      h.store.put(txId, from, fromBalance - amount);
      h.store.put(txId, to, toBalance + amount);
    }
    PrepareResult vote = h.rm.prepare(txId);
    if (vote.vote() == Vote.READ_ONLY) {
      return false;
    }
    assertThat(vote.vote()).isEqualTo(Vote.YES);
    h.rm.commit(txId, vote.branchData());
    return true;
  }

  private static String account(int i) {
    return "acct-" + i;
  }
}
