package io.decree.participant.kv;

import io.decree.participant.spi.ResourceException;
import io.decree.participant.spi.ResourceManager;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.SortedMap;

/**
 * The {@link KvStore} as a resource of the participant runtime. A thin adapter: it encodes and
 * decodes the branch data (the write set, see {@link KvCodec}) and turns the store's typed failures
 * into {@link ResourceException}s; the store decides everything else.
 *
 * <ul>
 *   <li>prepare: YES with the encoded write set; READ_ONLY (locks released) when the branch wrote
 *       nothing; NO, leaving the branch rolled back, when the branch is unknown ("no work under
 *       this transaction id; lost in a restart?") or became rollback-only after a lock timeout.
 *   <li>commit: applies the write set durably; a branch already applied, also before a restart, is
 *       not applied again.
 *   <li>rollback: discards the branch and releases its locks.
 *   <li>recover: re-adopts the prepared branches, re-taking their exclusive locks so nobody reads
 *       or overwrites keys in doubt, and opens the store for business work.
 * </ul>
 *
 * <p>Retryable failures: a lock wait that timed out while re-taking an adopted branch's locks, and
 * a commit record the WAL did not confirm durable (the branch keeps its locks). Everything else is
 * not retryable.
 */
public final class KvResourceManager implements ResourceManager {
  private final String name;
  private final KvStore store;

  /**
   * @param name a stable name for logs and status, e.g. {@code "kv:accounts-a"}
   */
  public KvResourceManager(String name, KvStore store) {
    this.name = Objects.requireNonNull(name, "name");
    this.store = Objects.requireNonNull(store, "store");
  }

  @Override
  public String name() {
    return name;
  }

  @Override
  public PrepareResult prepare(String txId) throws ResourceException {
    KvStore.Prepared prepared;
    try {
      prepared = store.prepare(txId);
    } catch (KvException | IllegalArgumentException e) {
      throw failure("prepare", txId, e);
    }
    return switch (prepared.vote()) {
      case YES -> PrepareResult.yes(KvCodec.encodeWriteSet(txId, prepared.writes()));
      case READ_ONLY -> PrepareResult.readOnly();
      case NO -> PrepareResult.no(prepared.reason());
    };
  }

  @Override
  public void commit(String txId, byte[] branchData) throws ResourceException {
    SortedMap<String, Long> writes = decode(txId, branchData);
    try {
      store.commit(txId, writes);
    } catch (KvException | IllegalArgumentException e) {
      throw failure("commit", txId, e);
    }
  }

  @Override
  public void rollback(String txId, byte[] branchData) throws ResourceException {
    try {
      store.rollback(txId);
    } catch (KvException | IllegalArgumentException e) {
      throw failure("rollback", txId, e);
    }
  }

  @Override
  public List<String> recover(List<PreparedBranch> preparedInLog) throws ResourceException {
    Map<String, SortedMap<String, Long>> branches = new LinkedHashMap<>();
    for (PreparedBranch b : preparedInLog) {
      branches.put(b.txId(), decode(b.txId(), b.branchData()));
    }
    try {
      return store.recover(branches);
    } catch (KvException | IllegalArgumentException e) {
      throw failure("recover", "", e);
    }
  }

  private static SortedMap<String, Long> decode(String txId, byte[] branchData)
      throws ResourceException {
    if (branchData == null || branchData.length == 0) {
      return Collections.emptySortedMap();
    }
    KvCodec.WriteSet ws;
    try {
      ws = KvCodec.decodeWriteSet(branchData);
    } catch (KvCodec.MalformedException e) {
      throw new ResourceException(
          "branch data of " + txId + " is not a kv write set: " + e.getMessage(), false, e);
    }
    if (!ws.txId().equals(txId)) {
      throw new ResourceException(
          "branch data handed with " + txId + " belongs to " + ws.txId(), false);
    }
    return ws.writes();
  }

  private ResourceException failure(String call, String txId, RuntimeException e) {
    boolean retryable =
        e instanceof LockTimeoutException
            || e instanceof KvDurabilityException
            || e instanceof KvNotRecoveredException;
    String subject = txId.isEmpty() ? "" : " of " + txId;
    return new ResourceException(
        name + ": " + call + subject + " failed: " + e.getMessage(), retryable, e);
  }
}
