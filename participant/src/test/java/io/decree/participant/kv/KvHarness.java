package io.decree.participant.kv;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager.PrepareResult;
import io.decree.participant.spi.ResourceManager.Vote;
import io.decree.wal.InMemoryWal;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/** A store on the fake WAL, recovered and ready for work, plus helpers the tests share. */
final class KvHarness implements AutoCloseable {
  final KvConfig config;
  InMemoryWal wal;
  KvStore store;
  KvResourceManager rm;
  private final ExecutorService threads = Executors.newFixedThreadPool(4);

  private KvHarness(KvConfig config, InMemoryWal wal) {
    this.config = config;
    this.wal = wal;
    this.store = KvStore.open(wal, config);
    this.rm = new KvResourceManager("kv:test", store);
  }

  /** Opened and recovered with nothing in doubt. */
  static KvHarness open(KvConfig config) throws ResourceException {
    return open(config, new InMemoryWal());
  }

  static KvHarness open(KvConfig config, InMemoryWal wal) throws ResourceException {
    KvHarness h = new KvHarness(config, wal);
    assertThat(h.rm.recover(List.of())).isEmpty();
    return h;
  }

  static KvConfig.Builder fastLocks() {
    return KvConfig.builder().lockTimeoutMillis(100);
  }

  /**
   * A clean restart of the process: the store and its WAL are closed and reopened. The new store is
   * not recovered yet: the test calls {@code rm.recover} as the runtime would.
   */
  void restart() {
    store.close();
    wal.close();
    wal = wal.reopen();
    store = KvStore.open(wal, config);
    rm = new KvResourceManager("kv:test", store);
  }

  /** kill -9: what the WAL had not synced is gone; the store is simply dropped. */
  void crash() {
    store.close();
    wal.crash();
    wal = wal.reopen();
    store = KvStore.open(wal, config);
    rm = new KvResourceManager("kv:test", store);
  }

  /** Writes through a whole branch: put, prepare (YES), commit. Returns the branch data. */
  byte[] commit(String txId, Map<String, Long> writes) throws ResourceException {
    writes.forEach((k, v) -> store.put(txId, k, v));
    PrepareResult vote = rm.prepare(txId);
    assertThat(vote.vote()).isEqualTo(Vote.YES);
    rm.commit(txId, vote.branchData());
    return vote.branchData();
  }

  /** Prepares a branch that writes {@code writes} and returns its branch data. */
  byte[] prepare(String txId, Map<String, Long> writes) throws ResourceException {
    writes.forEach((k, v) -> store.put(txId, k, v));
    PrepareResult vote = rm.prepare(txId);
    assertThat(vote.vote()).isEqualTo(Vote.YES);
    return vote.branchData();
  }

  <T> CompletableFuture<T> async(Callable<T> work) {
    CompletableFuture<T> f = new CompletableFuture<>();
    threads.execute(
        () -> {
          try {
            f.complete(work.call());
          } catch (Throwable t) {
            f.completeExceptionally(t);
          }
        });
    return f;
  }

  /** Waits (at most 5 s) until {@code n} threads wait for a lock on {@code key}. */
  void awaitWaiters(String key, int n) {
    awaitTrue(() -> store.locks().waitersOn(key) == n, "waiters on " + key + " == " + n);
  }

  static void awaitTrue(BooleanSupplier condition, String what) {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("timed out waiting for " + what);
      }
      try {
        Thread.sleep(1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError("interrupted waiting for " + what, e);
      }
    }
  }

  @Override
  public void close() {
    threads.shutdownNow();
    store.close();
    wal.close();
  }
}
