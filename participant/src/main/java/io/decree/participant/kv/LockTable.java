package io.decree.participant.kv;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Per-key shared/exclusive locks owned by transaction ids, for strict two-phase locking.
 *
 * <p>One {@link ReentrantLock} ({@code mutex}) guards the whole table: every key's holders and
 * waiters, and every owner's held keys. It is only held for bookkeeping, never across anything but
 * a {@link Condition} wait (which releases it). Each key has its own condition, signalled when a
 * holder leaves or a waiter for an exclusive lock gives up.
 *
 * <p>Rules: a shared lock is granted when nobody else holds the key exclusively and no exclusive
 * request is waiting (waiting writers are not starved by a stream of new readers). An exclusive
 * lock is granted when nobody else holds the key in any mode; a holder of the shared lock upgrades
 * in place. Re-acquiring a held lock returns at once. Waits are bounded; there is no deadlock
 * detection, a deadlock ends in {@link LockTimeoutException} for the waiters.
 *
 * <p>This is an I/O-edge component: it blocks real threads and reads {@link System#nanoTime()} for
 * the wait deadline, which is why it stays this small.
 */
final class LockTable {
  enum Mode {
    SHARED,
    EXCLUSIVE
  }

  private final ReentrantLock mutex = new ReentrantLock();
  // guarded by mutex
  private final Map<String, KeyLock> keyLocks = new HashMap<>();
  // guarded by mutex
  private final Map<String, Owner> owners = new HashMap<>();

  private final class KeyLock {
    final Condition changed = mutex.newCondition();
    String exclusiveOwner;
    final Set<String> sharedOwners = new HashSet<>(); // never contains exclusiveOwner
    int waiters;
    int exclusiveWaiters;

    boolean unused() {
      return exclusiveOwner == null && sharedOwners.isEmpty() && waiters == 0;
    }
  }

  private static final class Owner {
    final Set<String> keys = new HashSet<>();
    final List<String> waitingOn = new ArrayList<>(); // one entry per waiting thread
    boolean cancelled;
  }

  /**
   * Blocks until {@code txId} holds {@code key} in {@code mode} (or stronger).
   *
   * @throws LockTimeoutException when the wait runs out; the caller holds nothing new
   * @throws BranchStateException when {@link #releaseAll} ran for this owner during the wait
   * @throws KvException when interrupted (the interrupt flag is restored)
   */
  void acquire(String txId, String key, Mode mode, long timeoutMillis) {
    mutex.lock();
    try {
      Owner owner = owners.computeIfAbsent(txId, t -> new Owner());
      KeyLock lock = keyLocks.computeIfAbsent(key, k -> new KeyLock());
      if (holds(lock, txId, mode)) {
        return;
      }
      if (grantable(lock, txId, mode)) {
        grant(lock, owner, txId, key, mode);
        return;
      }
      lock.waiters++;
      if (mode == Mode.EXCLUSIVE) {
        lock.exclusiveWaiters++;
      }
      owner.waitingOn.add(key);
      boolean granted = false;
      try {
        long remainingNanos = TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
        while (true) {
          if (owner.cancelled) {
            throw new BranchStateException(
                "branch " + txId + " ended while it waited for a lock on '" + key + "'");
          }
          if (grantable(lock, txId, mode)) {
            grant(lock, owner, txId, key, mode);
            granted = true;
            return;
          }
          if (remainingNanos <= 0) {
            throw new LockTimeoutException(
                "lock wait timed out after "
                    + timeoutMillis
                    + " ms: "
                    + txId
                    + " wanted "
                    + mode
                    + " on '"
                    + key
                    + "', held by "
                    + describeHolders(lock)
                    + " (a deadlock ends this way too)",
                txId,
                key,
                timeoutMillis);
          }
          remainingNanos = lock.changed.awaitNanos(remainingNanos);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new KvException("interrupted while " + txId + " waited for a lock on '" + key + "'");
      } finally {
        lock.waiters--;
        owner.waitingOn.remove(key);
        if (mode == Mode.EXCLUSIVE) {
          lock.exclusiveWaiters--;
          if (!granted) {
            // Readers held back by this pending exclusive request may go now.
            lock.changed.signalAll();
          }
        }
        if (!granted) {
          dropIfUnused(key, lock);
          if (owner.keys.isEmpty() && owner.waitingOn.isEmpty()) {
            owners.remove(txId, owner);
          }
        }
      }
    } finally {
      mutex.unlock();
    }
  }

  /**
   * Releases every lock of {@code txId} and makes its pending waits fail. After this the owner is
   * forgotten; a later {@link #acquire} for the same id starts a new owner.
   */
  void releaseAll(String txId) {
    mutex.lock();
    try {
      Owner owner = owners.remove(txId);
      if (owner == null) {
        return;
      }
      for (String key : owner.keys) {
        KeyLock lock = keyLocks.get(key);
        if (lock == null) {
          throw new IllegalStateException("owner " + txId + " holds '" + key + "' without a lock");
        }
        if (txId.equals(lock.exclusiveOwner)) {
          lock.exclusiveOwner = null;
        } else {
          lock.sharedOwners.remove(txId);
        }
        lock.changed.signalAll();
        dropIfUnused(key, lock);
      }
      owner.keys.clear();
      if (!owner.waitingOn.isEmpty()) {
        owner.cancelled = true;
        for (String key : owner.waitingOn) {
          keyLocks.get(key).changed.signalAll();
        }
      }
    } finally {
      mutex.unlock();
    }
  }

  /** Releases the keys {@code txId} holds only in shared mode; its exclusive locks stay. */
  void releaseShared(String txId) {
    mutex.lock();
    try {
      Owner owner = owners.get(txId);
      if (owner == null) {
        return;
      }
      var it = owner.keys.iterator();
      while (it.hasNext()) {
        String key = it.next();
        KeyLock lock = keyLocks.get(key);
        if (lock.sharedOwners.remove(txId)) {
          it.remove();
          lock.changed.signalAll();
          dropIfUnused(key, lock);
        }
      }
    } finally {
      mutex.unlock();
    }
  }

  /** The keys {@code txId} holds, with their mode; for tests and status. */
  Map<String, Mode> heldBy(String txId) {
    mutex.lock();
    try {
      Owner owner = owners.get(txId);
      Map<String, Mode> held = new HashMap<>();
      if (owner != null) {
        for (String key : owner.keys) {
          held.put(
              key, txId.equals(keyLocks.get(key).exclusiveOwner) ? Mode.EXCLUSIVE : Mode.SHARED);
        }
      }
      return held;
    } finally {
      mutex.unlock();
    }
  }

  /** Threads waiting for {@code key}; for tests and status. */
  int waitersOn(String key) {
    mutex.lock();
    try {
      KeyLock lock = keyLocks.get(key);
      return lock == null ? 0 : lock.waiters;
    } finally {
      mutex.unlock();
    }
  }

  /** Keys with a holder or a waiter; for tests (a leak shows here). */
  int lockedKeyCount() {
    mutex.lock();
    try {
      return keyLocks.size();
    } finally {
      mutex.unlock();
    }
  }

  private static boolean holds(KeyLock lock, String txId, Mode mode) {
    return switch (mode) {
      case SHARED -> txId.equals(lock.exclusiveOwner) || lock.sharedOwners.contains(txId);
      case EXCLUSIVE -> txId.equals(lock.exclusiveOwner);
    };
  }

  private static boolean grantable(KeyLock lock, String txId, Mode mode) {
    return switch (mode) {
      case SHARED -> lock.exclusiveOwner == null && lock.exclusiveWaiters == 0;
      case EXCLUSIVE ->
          lock.exclusiveOwner == null
              && (lock.sharedOwners.isEmpty()
                  || (lock.sharedOwners.size() == 1 && lock.sharedOwners.contains(txId)));
    };
  }

  private static void grant(KeyLock lock, Owner owner, String txId, String key, Mode mode) {
    switch (mode) {
      case SHARED -> lock.sharedOwners.add(txId);
      case EXCLUSIVE -> {
        lock.sharedOwners.remove(txId);
        lock.exclusiveOwner = txId;
      }
    }
    owner.keys.add(key);
  }

  private void dropIfUnused(String key, KeyLock lock) {
    if (lock.unused()) {
      keyLocks.remove(key, lock);
    }
  }

  private static String describeHolders(KeyLock lock) {
    List<String> holders = new ArrayList<>();
    if (lock.exclusiveOwner != null) {
      holders.add(lock.exclusiveOwner + " (EXCLUSIVE)");
    }
    lock.sharedOwners.stream().sorted().limit(5).forEach(t -> holders.add(t + " (SHARED)"));
    if (lock.sharedOwners.size() > 5) {
      holders.add("and " + (lock.sharedOwners.size() - 5) + " more");
    }
    return holders.isEmpty()
        ? "[nobody; exclusive requests were queued first]"
        : holders.toString();
  }
}
