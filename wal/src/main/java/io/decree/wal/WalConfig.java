package io.decree.wal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.LongSupplier;

/** Everything {@link ChronicleWal} needs, validated once by {@link #validate()} at open. */
public final class WalConfig {
  /** How long each cycle file covers; retention deletes whole files. */
  public enum RollPeriod {
    /** For tests that need many files quickly. */
    SECONDLY,
    FIVE_MINUTELY,
    /** The default: see {@link ChronicleWal} for why. */
    HOURLY,
    DAILY
  }

  /** Reports the usable bytes of the file store holding the WAL; injectable for tests. */
  @FunctionalInterface
  public interface UsableSpaceProbe {
    long usableBytes(Path directory) throws IOException;

    /**
     * The default: the directory's file store. {@code Files.getFileStore} parses the mount table,
     * so {@link ChronicleWal} resolves the store once at open and only asks it for space per batch.
     */
    UsableSpaceProbe FILE_STORE = dir -> Files.getFileStore(dir).getUsableSpace();
  }

  /** A test seam called by the writer thread; may throw to simulate an I/O failure. */
  @FunctionalInterface
  public interface IoHook {
    void run() throws IOException;

    IoHook NONE = () -> {};
  }

  /** Chronicle maps the cycle file in chunks of this size; the disk reserve must cover one. */
  static final long CHRONICLE_BLOCK_BYTES = 16L << 20;

  private final Path directory;
  private final int queueCapacity;
  private final int maxBatch;
  private final int maxRecordBytes;
  private final long diskReserveBytes;
  private final RollPeriod rollPeriod;
  private final LongSupplier clockMillis;
  private final UsableSpaceProbe usableSpaceProbe;
  private final IoHook beforeSync;
  private final Runnable midRecordWrite;

  private WalConfig(Builder b) {
    this.directory = b.directory;
    this.queueCapacity = b.queueCapacity;
    this.maxBatch = b.maxBatch;
    this.maxRecordBytes = b.maxRecordBytes;
    this.diskReserveBytes = b.diskReserveBytes;
    this.rollPeriod = b.rollPeriod;
    this.clockMillis = b.clockMillis;
    this.usableSpaceProbe = b.usableSpaceProbe;
    this.beforeSync = b.beforeSync;
    this.midRecordWrite = b.midRecordWrite;
  }

  public static Builder builder() {
    return new Builder();
  }

  /**
   * Checks every field, naming the first bad one.
   *
   * @throws IllegalArgumentException with a message naming the field and the allowed range
   */
  public WalConfig validate() {
    require(directory != null, "directory must be set");
    require(queueCapacity >= 1, "queueCapacity must be >= 1, was " + queueCapacity);
    require(
        maxBatch >= 1 && maxBatch <= queueCapacity,
        "maxBatch must be in [1, queueCapacity=" + queueCapacity + "], was " + maxBatch);
    require(
        maxRecordBytes >= 0 && maxRecordBytes <= (64 << 20),
        "maxRecordBytes must be in [0, 64 MiB], was " + maxRecordBytes);
    require(
        diskReserveBytes >= CHRONICLE_BLOCK_BYTES + maxRecordBytes,
        "diskReserveBytes must cover one Chronicle block ("
            + CHRONICLE_BLOCK_BYTES
            + ") plus maxRecordBytes ("
            + maxRecordBytes
            + "), was "
            + diskReserveBytes);
    require(rollPeriod != null, "rollPeriod must be set");
    require(clockMillis != null, "clockMillis must be set");
    require(usableSpaceProbe != null, "usableSpaceProbe must be set");
    require(beforeSync != null, "beforeSync must be set");
    require(midRecordWrite != null, "midRecordWrite must be set");
    return this;
  }

  private static void require(boolean ok, String message) {
    if (!ok) {
      throw new IllegalArgumentException("WalConfig: " + message);
    }
  }

  public Path directory() {
    return directory;
  }

  public int queueCapacity() {
    return queueCapacity;
  }

  public int maxBatch() {
    return maxBatch;
  }

  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  public long diskReserveBytes() {
    return diskReserveBytes;
  }

  public RollPeriod rollPeriod() {
    return rollPeriod;
  }

  public LongSupplier clockMillis() {
    return clockMillis;
  }

  public UsableSpaceProbe usableSpaceProbe() {
    return usableSpaceProbe;
  }

  IoHook beforeSync() {
    return beforeSync;
  }

  Runnable midRecordWrite() {
    return midRecordWrite;
  }

  public static final class Builder {
    private Path directory;
    private int queueCapacity = 4096;
    private int maxBatch = 1024;
    private int maxRecordBytes = 1 << 20;
    private long diskReserveBytes = 64L << 20;
    private RollPeriod rollPeriod = RollPeriod.HOURLY;
    private LongSupplier clockMillis = System::currentTimeMillis;
    private UsableSpaceProbe usableSpaceProbe = UsableSpaceProbe.FILE_STORE;
    private IoHook beforeSync = IoHook.NONE;
    private Runnable midRecordWrite = () -> {};

    private Builder() {}

    public Builder directory(Path directory) {
      this.directory = directory;
      return this;
    }

    /** Records waiting for the writer; {@code append} blocks when this many are queued. */
    public Builder queueCapacity(int queueCapacity) {
      this.queueCapacity = queueCapacity;
      return this;
    }

    /** Most records written between two syncs. */
    public Builder maxBatch(int maxBatch) {
      this.maxBatch = maxBatch;
      return this;
    }

    public Builder maxRecordBytes(int maxRecordBytes) {
      this.maxRecordBytes = maxRecordBytes;
      return this;
    }

    /** Appends fail once the file store has less than this many usable bytes. */
    public Builder diskReserveBytes(long diskReserveBytes) {
      this.diskReserveBytes = diskReserveBytes;
      return this;
    }

    public Builder rollPeriod(RollPeriod rollPeriod) {
      this.rollPeriod = rollPeriod;
      return this;
    }

    /** Wall clock used to pick the cycle file; tests pass a fake to force rolls. */
    public Builder clockMillis(LongSupplier clockMillis) {
      this.clockMillis = clockMillis;
      return this;
    }

    public Builder usableSpaceProbe(UsableSpaceProbe usableSpaceProbe) {
      this.usableSpaceProbe = usableSpaceProbe;
      return this;
    }

    /** Test seam: runs before every sync; throwing makes that sync fail. */
    public Builder beforeSync(IoHook beforeSync) {
      this.beforeSync = Objects.requireNonNull(beforeSync);
      return this;
    }

    /** Test seam: runs after half of a record's frame is written, before the rest. */
    public Builder midRecordWrite(Runnable midRecordWrite) {
      this.midRecordWrite = Objects.requireNonNull(midRecordWrite);
      return this;
    }

    public WalConfig build() {
      return new WalConfig(this);
    }
  }
}
