package io.decree.participant.kv;

/**
 * Everything {@link KvStore} needs, validated once by {@link #validate()} when the store opens.
 * Every size the store keeps in memory or writes to its WAL has a limit here.
 */
public final class KvConfig {
  private final long lockTimeoutMillis;
  private final int branchesMax;
  private final int keysPerBranchMax;
  private final int keysMax;
  private final int keyBytesMax;
  private final int txIdBytesMax;
  private final int appliedTxIdsRetained;
  private final int endedTxIdsRetained;
  private final int checkpointEveryCommits;
  private final int walRecordBytesMax;
  private final long walSyncTimeoutMillis;

  private KvConfig(Builder b) {
    this.lockTimeoutMillis = b.lockTimeoutMillis;
    this.branchesMax = b.branchesMax;
    this.keysPerBranchMax = b.keysPerBranchMax;
    this.keysMax = b.keysMax;
    this.keyBytesMax = b.keyBytesMax;
    this.txIdBytesMax = b.txIdBytesMax;
    this.appliedTxIdsRetained = b.appliedTxIdsRetained;
    this.endedTxIdsRetained = b.endedTxIdsRetained;
    this.checkpointEveryCommits = b.checkpointEveryCommits;
    this.walRecordBytesMax = b.walRecordBytesMax;
    this.walSyncTimeoutMillis = b.walSyncTimeoutMillis;
  }

  public static Builder builder() {
    return new Builder();
  }

  /** The defaults: fine for the bank demo and for tests. */
  public static KvConfig defaults() {
    return builder().build();
  }

  /**
   * Checks every field, naming the first bad one.
   *
   * @throws IllegalArgumentException with a message naming the field and the allowed range
   */
  public KvConfig validate() {
    require(
        lockTimeoutMillis >= 1 && lockTimeoutMillis <= 600_000,
        "lockTimeoutMillis must be in [1, 600000], was " + lockTimeoutMillis);
    require(branchesMax >= 1, "branchesMax must be >= 1, was " + branchesMax);
    require(keysPerBranchMax >= 1, "keysPerBranchMax must be >= 1, was " + keysPerBranchMax);
    require(keysMax >= 1, "keysMax must be >= 1, was " + keysMax);
    require(
        keyBytesMax >= 1 && keyBytesMax <= KvCodec.STRING_BYTES_MAX,
        "keyBytesMax must be in [1, " + KvCodec.STRING_BYTES_MAX + "], was " + keyBytesMax);
    require(
        txIdBytesMax >= 1 && txIdBytesMax <= KvCodec.STRING_BYTES_MAX,
        "txIdBytesMax must be in [1, " + KvCodec.STRING_BYTES_MAX + "], was " + txIdBytesMax);
    require(
        appliedTxIdsRetained >= 1,
        "appliedTxIdsRetained must be >= 1, was " + appliedTxIdsRetained);
    require(endedTxIdsRetained >= 1, "endedTxIdsRetained must be >= 1, was " + endedTxIdsRetained);
    require(
        checkpointEveryCommits >= 1,
        "checkpointEveryCommits must be >= 1, was " + checkpointEveryCommits);
    require(
        walRecordBytesMax >= KvCodec.SNAPSHOT_CHUNK_HEADER_BYTES + 64,
        "walRecordBytesMax must be >= "
            + (KvCodec.SNAPSHOT_CHUNK_HEADER_BYTES + 64)
            + ", was "
            + walRecordBytesMax);
    long writeSetBytesMax = KvCodec.writeSetBytesMax(txIdBytesMax, keysPerBranchMax, keyBytesMax);
    require(
        writeSetBytesMax <= walRecordBytesMax,
        "the largest write set ("
            + writeSetBytesMax
            + " bytes for keysPerBranchMax="
            + keysPerBranchMax
            + ", keyBytesMax="
            + keyBytesMax
            + ", txIdBytesMax="
            + txIdBytesMax
            + ") must fit walRecordBytesMax="
            + walRecordBytesMax);
    require(
        walSyncTimeoutMillis >= 1 && walSyncTimeoutMillis <= 600_000,
        "walSyncTimeoutMillis must be in [1, 600000], was " + walSyncTimeoutMillis);
    return this;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("KvConfig: " + message);
    }
  }

  /** How long a branch waits for one key lock before {@link LockTimeoutException}. */
  public long lockTimeoutMillis() {
    return lockTimeoutMillis;
  }

  /** Branches open at once (working, prepared or committing). */
  public int branchesMax() {
    return branchesMax;
  }

  /** Distinct keys one branch may read or write. */
  public int keysPerBranchMax() {
    return keysPerBranchMax;
  }

  /**
   * Keys the store holds. Checked when a branch first writes a new key, so concurrent branches may
   * overshoot it by at most their own new keys.
   */
  public int keysMax() {
    return keysMax;
  }

  /** Longest key, in UTF-8 bytes. */
  public int keyBytesMax() {
    return keyBytesMax;
  }

  /** Longest transaction id, in UTF-8 bytes. */
  public int txIdBytesMax() {
    return txIdBytesMax;
  }

  /**
   * Committed transaction ids remembered (durably, in the WAL and its snapshots) so that a repeated
   * commit is a no-op. A commit repeated after this many later commits would be applied again, so
   * this must cover every commit the participant runtime may still repeat.
   */
  public int appliedTxIdsRetained() {
    return appliedTxIdsRetained;
  }

  /**
   * Rolled-back and read-only transaction ids remembered in memory, so that late work under them is
   * refused and a repeated prepare gets the same vote.
   */
  public int endedTxIdsRetained() {
    return endedTxIdsRetained;
  }

  /** A full-state snapshot is written after this many commits; the WAL is then cut before it. */
  public int checkpointEveryCommits() {
    return checkpointEveryCommits;
  }

  /**
   * The largest record the WAL accepts (the WAL's own {@code maxRecordBytes}); snapshots are cut
   * into chunks of this size and the largest write set must fit in one record.
   */
  public int walRecordBytesMax() {
    return walRecordBytesMax;
  }

  /** How long a commit waits for the WAL to confirm its record durable. */
  public long walSyncTimeoutMillis() {
    return walSyncTimeoutMillis;
  }

  public static final class Builder {
    private long lockTimeoutMillis = 2_000;
    private int branchesMax = 1_024;
    private int keysPerBranchMax = 1_024;
    private int keysMax = 1_000_000;
    private int keyBytesMax = 256;
    private int txIdBytesMax = 128;
    private int appliedTxIdsRetained = 100_000;
    private int endedTxIdsRetained = 10_000;
    private int checkpointEveryCommits = 10_000;
    private int walRecordBytesMax = 1 << 20;
    private long walSyncTimeoutMillis = 30_000;

    private Builder() {}

    public Builder lockTimeoutMillis(long lockTimeoutMillis) {
      this.lockTimeoutMillis = lockTimeoutMillis;
      return this;
    }

    public Builder branchesMax(int branchesMax) {
      this.branchesMax = branchesMax;
      return this;
    }

    public Builder keysPerBranchMax(int keysPerBranchMax) {
      this.keysPerBranchMax = keysPerBranchMax;
      return this;
    }

    public Builder keysMax(int keysMax) {
      this.keysMax = keysMax;
      return this;
    }

    public Builder keyBytesMax(int keyBytesMax) {
      this.keyBytesMax = keyBytesMax;
      return this;
    }

    public Builder txIdBytesMax(int txIdBytesMax) {
      this.txIdBytesMax = txIdBytesMax;
      return this;
    }

    public Builder appliedTxIdsRetained(int appliedTxIdsRetained) {
      this.appliedTxIdsRetained = appliedTxIdsRetained;
      return this;
    }

    public Builder endedTxIdsRetained(int endedTxIdsRetained) {
      this.endedTxIdsRetained = endedTxIdsRetained;
      return this;
    }

    public Builder checkpointEveryCommits(int checkpointEveryCommits) {
      this.checkpointEveryCommits = checkpointEveryCommits;
      return this;
    }

    public Builder walRecordBytesMax(int walRecordBytesMax) {
      this.walRecordBytesMax = walRecordBytesMax;
      return this;
    }

    public Builder walSyncTimeoutMillis(long walSyncTimeoutMillis) {
      this.walSyncTimeoutMillis = walSyncTimeoutMillis;
      return this;
    }

    public KvConfig build() {
      return new KvConfig(this);
    }
  }
}
