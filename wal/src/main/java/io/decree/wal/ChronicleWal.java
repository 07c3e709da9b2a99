package io.decree.wal;

import java.io.File;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import net.openhft.chronicle.bytes.Bytes;
import net.openhft.chronicle.bytes.SyncMode;
import net.openhft.chronicle.queue.ExcerptAppender;
import net.openhft.chronicle.queue.ExcerptTailer;
import net.openhft.chronicle.queue.RollCycle;
import net.openhft.chronicle.queue.RollCycles;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueue;
import net.openhft.chronicle.queue.impl.single.SingleChronicleQueueBuilder;
import net.openhft.chronicle.queue.rollcycles.TestRollCycles;
import net.openhft.chronicle.wire.DocumentContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The WAL on Chronicle Queue: Chronicle gives us mapped, indexed, rolling files; we add what it
 * lacks for a WAL: a CRC per record, syncs whose failure is seen (Chronicle's msync only logs),
 * directory fsyncs for new files, torn-tail detection, a fail-fast single-writer lock and a disk
 * reserve. See docs/wal.md for what survives a crash and a power loss.
 *
 * <p>Threading: one writer thread owns the appender, the cycle-file channels and {@code
 * durablePosition} writes; appenders hand it work through a bounded queue. The writer completes the
 * futures itself, in position order, after each sync; callers' dependent actions ({@code thenApply}
 * and the like) therefore run on the writer thread and must not block. (A separate completer thread
 * was measured and rejected: see docs/wal.md.) They may append: an append made on the writer thread
 * never waits for room in the queue (the writer is what makes room) and goes to its tail, after
 * everything appended before it, so a node may run its core on the writer thread. {@code replay}
 * and {@code retainFrom} run on the caller's thread with their own tailers.
 */
public final class ChronicleWal implements WriteAheadLog {
  private static final Logger log = LoggerFactory.getLogger(ChronicleWal.class);

  /** Internal record written at open after cutting a torn tail; payload: the first cut position. */
  static final int TAIL_CUT_TYPE = -1;

  /** Chronicle's timeout for its own locks and headers; we never share the queue, so keep short. */
  private static final long CHRONICLE_TIMEOUT_MILLIS = 2_000;

  /**
   * How long the idle writer spins before parking. A lone appender whose future was just completed
   * appends again within microseconds; catching that without a park saves the appender an unpark
   * and the writer a wake-up (tens of microseconds on a busy VM). Short enough not to matter as
   * CPU.
   */
  private static final long WRITER_SPIN_NANOS = 20_000;

  /** Lazy records wait at most this long for a sync (a forced append, or an idle writer's). */
  private static final long LAZY_WAIT_MAX_NANOS = TimeUnit.MILLISECONDS.toNanos(20);

  private final WalConfig config;
  private final Path directory;
  private final DirectoryLock directoryLock;
  private final SingleChronicleQueue queue;
  private final HandoffQueue<Pending> pending;
  private final Thread writer;
  private final WalStats.Counters stats = new WalStats.Counters();

  /** Ranges [from, through] of positions cut as torn tails; replay skips them. */
  private final List<long[]> cutRanges = new CopyOnWriteArrayList<>();

  /** Cycle -> file, for every cycle file we have seen; retention deletes from it. */
  private final ConcurrentSkipListMap<Integer, File> cycleFiles = new ConcurrentSkipListMap<>();

  /** Highest position synced; written only by the writer thread (and open). */
  private volatile long durablePosition = -1;

  /** Set once a sync or write fails; every later append fails with it. */
  private volatile WalException failure;

  private volatile boolean closed;
  private volatile int writingCycle = Integer.MIN_VALUE;

  // Writer-thread state.
  private ExcerptAppender appender;

  /** The frame being written, and the same bytes read back from the mapping; grown on demand. */
  private byte[] frameBuffer = new byte[4096];

  private byte[] readBackBuffer = new byte[4096];
  private final Map<Integer, FileChannel> cycleChannels = new ConcurrentSkipListMap<>();

  /** Asked before every batch; the default probe with its file store resolved once. */
  private final WalConfig.UsableSpaceProbe usableSpace;

  /** A queued append; a lazy one does not make the writer sync ({@link #appendLazily}). */
  private record Pending(int type, byte[] payload, CompletableFuture<Long> future, boolean lazy) {}

  // Writer thread only: records written but not yet synced (lazy ones wait here for the next
  // sync), their positions, the cycle files they lie in, and the time spent writing them.
  private final List<Pending> written = new ArrayList<>();
  private long[] writtenPositions = new long[64];
  private final List<Integer> touched = new ArrayList<>(2);
  private long writtenNanos;
  private long firstWrittenNanos;

  private ChronicleWal(WalConfig config, DirectoryLock directoryLock, SingleChronicleQueue queue) {
    this.config = config;
    this.directory = config.directory();
    this.directoryLock = directoryLock;
    this.queue = queue;
    this.pending = new HandoffQueue<>(config.queueCapacity());
    this.writer = new Thread(this::runWriter, "decree-wal-writer-" + directory.getFileName());
    this.writer.setDaemon(true);
    this.usableSpace = resolveProbe(config);
  }

  private static WalConfig.UsableSpaceProbe resolveProbe(WalConfig config) {
    if (config.usableSpaceProbe() != WalConfig.UsableSpaceProbe.FILE_STORE) {
      return config.usableSpaceProbe();
    }
    try {
      FileStore store = Files.getFileStore(config.directory());
      return dir -> store.getUsableSpace();
    } catch (IOException e) {
      throw new WalException("cannot find the file store of " + config.directory() + ": " + e, e);
    }
  }

  /**
   * Opens (creating if needed) the WAL in {@code config.directory()}, validating every record.
   *
   * @throws WalLockedException if another process or WAL instance holds the directory
   * @throws WalCorruptedException if a record before the tail is bad
   */
  public static ChronicleWal open(WalConfig config) {
    config.validate();
    Path dir = config.directory().toAbsolutePath();
    try {
      if (!Files.isDirectory(dir)) {
        Files.createDirectories(dir);
        fsyncDirectory(dir.getParent());
      }
    } catch (IOException e) {
      throw new WalException("cannot create WAL directory " + dir + ": " + e, e);
    }
    DirectoryLock lock = DirectoryLock.acquire(dir);
    SingleChronicleQueue queue = null;
    try {
      queue =
          SingleChronicleQueueBuilder.binary(dir)
              .rollCycle(rollCycle(config.rollPeriod()))
              // Chronicle's own msync only logs failures: we force the file ourselves and fail
              // the batch. NONE is set explicitly so no default can change that.
              .syncMode(SyncMode.NONE)
              .blockSize(WalConfig.CHRONICLE_BLOCK_BYTES)
              .timeoutMS(CHRONICLE_TIMEOUT_MILLIS)
              .checkInterrupts(false)
              .readOnly(false)
              .timeProvider(() -> config.clockMillis().getAsLong())
              .build();
      ChronicleWal wal = new ChronicleWal(config, lock, queue);
      wal.recover();
      wal.writer.start();
      return wal;
    } catch (RuntimeException e) {
      if (queue != null) {
        queue.close();
      }
      lock.close();
      throw e;
    }
  }

  /**
   * HOURLY is the default: a coordinator retires decisions within seconds to minutes, so hourly
   * files let retention free disk within about an hour while keeping the file count (and one
   * directory fsync per roll) negligible. FAST_HOURLY's binary-search index lookup is what replay
   * from a position needs.
   */
  private static RollCycle rollCycle(WalConfig.RollPeriod period) {
    return switch (period) {
      case SECONDLY -> TestRollCycles.TEST_SECONDLY;
      case FIVE_MINUTELY -> RollCycles.FIVE_MINUTELY;
      case HOURLY -> RollCycles.FAST_HOURLY;
      case DAILY -> RollCycles.FAST_DAILY;
    };
  }

  // ---------------------------------------------------------------- recovery

  /** One record as the open-time scan saw it. */
  private record Scanned(long position, int cycle, File file, long fileOffset, String problem) {}

  /**
   * Reads every record once. A bad record is corruption if some later valid record says it was
   * durable ({@code durableThrough >= its position}) and it is not inside a cut already recorded;
   * otherwise it starts a torn tail, which is cut by appending a {@link #TAIL_CUT_TYPE} marker.
   */
  private void recover() {
    List<Scanned> bad = new ArrayList<>();
    long maxDurableThrough = -1;
    long lastPosition = -1;
    long count = 0;
    try (ExcerptTailer tailer = queue.createTailer()) {
      tailer.toStart();
      while (true) {
        try (DocumentContext dc = tailer.readingDocument()) {
          if (!dc.isPresent()) {
            break;
          }
          if (dc.isMetaData()) {
            continue;
          }
          long position = dc.index();
          Bytes<?> bytes = dc.wire().bytes();
          long offset = bytes.readPosition();
          byte[] frameBytes = new byte[(int) bytes.readRemaining()];
          bytes.read(frameBytes);
          File file = tailer.currentFile();
          cycleFiles.putIfAbsent(tailer.cycle(), file);
          lastPosition = position;
          count++;
          try {
            RecordCodec.Frame frame = RecordCodec.decode(frameBytes);
            maxDurableThrough = Math.max(maxDurableThrough, frame.durableThrough());
            if (frame.type() == TAIL_CUT_TYPE) {
              long from = ByteBuffer.wrap(frame.payload()).getLong();
              cutRanges.add(new long[] {from, position});
            }
          } catch (RecordCodec.InvalidFrameException e) {
            bad.add(new Scanned(position, tailer.cycle(), file, offset, e.getMessage()));
          }
        }
      }
    }
    Scanned firstUncut = null;
    for (Scanned s : bad) {
      if (isCut(s.position())) {
        continue;
      }
      if (s.position() <= maxDurableThrough) {
        throw new WalCorruptedException(
            "WAL record at position "
                + s.position()
                + " in file "
                + s.file()
                + " (byte offset "
                + s.fileOffset()
                + ") is corrupt ("
                + s.problem()
                + ") but a later record says it was durable; refusing to open");
      }
      if (firstUncut == null) {
        firstUncut = s;
      }
    }
    syncEverythingPresent();
    durablePosition = lastPosition;
    if (firstUncut != null) {
      log.warn(
          "WAL {}: cutting torn tail at position {} in file {} (byte offset {}): {}; records"
              + " from there through {} are discarded",
          directory,
          firstUncut.position(),
          firstUncut.file(),
          firstUncut.fileOffset(),
          firstUncut.problem(),
          lastPosition);
      long cutFrom = firstUncut.position();
      byte[] payload = ByteBuffer.allocate(8).putLong(cutFrom).array();
      appender = queue.createAppender();
      long marker = writeFrame(TAIL_CUT_TYPE, cutFrom - 1, payload, false);
      syncTouched(List.of(writingCycle));
      // Chronicle appenders are single-thread objects: the writer thread creates its own.
      appender.close();
      appender = null;
      cutRanges.add(new long[] {cutFrom, marker});
      durablePosition = marker;
    }
    log.info(
        "WAL {} opened: {} records scanned, durable through {}", directory, count, lastPosition);
  }

  private boolean isCut(long position) {
    for (long[] range : cutRanges) {
      if (position >= range[0] && position <= range[1]) {
        return true;
      }
    }
    return false;
  }

  /**
   * After a process crash the page cache may hold records never synced; they are valid and will be
   * treated as durable by the next records' {@code durableThrough}, so make them so first.
   */
  private void syncEverythingPresent() {
    try {
      for (File file : cycleFiles.values()) {
        try (FileChannel ch = FileChannel.open(file.toPath(), StandardOpenOption.WRITE)) {
          ch.force(false);
        }
      }
      fsyncDirectory(directory);
    } catch (IOException e) {
      throw new WalSyncException("cannot sync WAL " + directory + " at open: " + e, e);
    }
  }

  // ---------------------------------------------------------------- append

  @Override
  public CompletableFuture<Long> append(int type, byte[] payload) {
    return enqueue(type, payload, false);
  }

  @Override
  public CompletableFuture<Long> appendLazily(int type, byte[] payload) {
    return enqueue(type, payload, true);
  }

  private CompletableFuture<Long> enqueue(int type, byte[] payload, boolean lazy) {
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
    if (type < 0) {
      throw new IllegalArgumentException("record type must be >= 0 (negatives are reserved)");
    }
    if (payload.length > config.maxRecordBytes()) {
      throw new IllegalArgumentException(
          "payload of "
              + payload.length
              + " bytes exceeds maxRecordBytes="
              + config.maxRecordBytes());
    }
    CompletableFuture<Long> future = new CompletableFuture<>();
    WalException failed = failure;
    if (failed != null) {
      future.completeExceptionally(failed);
      return future;
    }
    if (closed) {
      future.completeExceptionally(closedException());
      return future;
    }
    Pending p = new Pending(type, payload, future, lazy);
    if (Thread.currentThread() == writer) {
      // A completion callback appending: at the queue's tail, after everything appended before
      // it (putting it ahead of the queue would reorder records), and without waiting for room.
      pending.offerFromConsumer(p);
      return future;
    }
    try {
      // Bounded wait so a close racing with a full queue cannot strand this caller.
      while (!pending.offer(p, 50, TimeUnit.MILLISECONDS)) {
        if (closed) {
          future.completeExceptionally(closedException());
          return future;
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      future.completeExceptionally(new WalClosedException("interrupted while queueing", e));
      return future;
    }
    // If close drained the queue before our offer landed, nobody else will take it.
    if (closed && !writer.isAlive() && pending.remove(p)) {
      future.completeExceptionally(closedException());
    }
    return future;
  }

  private WalClosedException closedException() {
    return new WalClosedException("WAL " + directory + " is closed");
  }

  private void runWriter() {
    List<Pending> batch = new ArrayList<>(config.maxBatch());
    try {
      while (true) {
        Pending first = pending.poll(WRITER_SPIN_NANOS, 20, TimeUnit.MILLISECONDS);
        if (first == null) {
          // Idle: lazy records need not wait for the next forced one any longer.
          syncWritten();
          // close() promises to finish what was queued before it: an append may land between the
          // empty poll and this check.
          if (closed && pending.isEmpty()) {
            return;
          }
          continue;
        }
        batch.add(first);
        pending.drainTo(batch, config.maxBatch() - 1);
        writeBatch(batch);
        batch.clear();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      stopAccepting(new WalClosedException("WAL writer interrupted", e), batch);
    } catch (RuntimeException | Error e) {
      // A bug or an unexpected library failure: stop accepting work, loudly.
      log.error("WAL {} writer died", directory, e);
      stopAccepting(new WalException("WAL writer failed: " + e, e), batch);
    } finally {
      closeWriterResources();
    }
  }

  /**
   * Writes a batch; syncs it (with any lazy records written before) unless it holds only lazy
   * records, which then wait for the next sync.
   */
  private void writeBatch(List<Pending> batch) {
    WalException failed = failure;
    if (failed != null) {
      batch.forEach(p -> p.future().completeExceptionally(failed));
      return;
    }
    long batchBytes = 0;
    for (Pending p : batch) {
      batchBytes += RecordCodec.frameLength(p.payload().length) + 8;
    }
    WalDiskFullException full = checkDiskReserve(batchBytes);
    if (full != null) {
      batch.forEach(p -> p.future().completeExceptionally(full));
      return;
    }
    if (appender == null) {
      appender = queue.createAppender();
    }
    long watermark = durablePosition;
    boolean forced = false;
    long writeStart = System.nanoTime();
    try {
      for (Pending p : batch) {
        long position = writeFrame(p.type(), watermark, p.payload(), true);
        if (written.isEmpty()) {
          firstWrittenNanos = System.nanoTime();
        }
        if (written.size() == writtenPositions.length) {
          writtenPositions = Arrays.copyOf(writtenPositions, writtenPositions.length * 2);
        }
        writtenPositions[written.size()] = position;
        written.add(p);
        if (touched.isEmpty() || touched.get(touched.size() - 1) != writingCycle) {
          touched.add(writingCycle);
        }
        forced |= !p.lazy();
      }
    } catch (RuntimeException e) {
      failWritePath(e, batch);
      return;
    } finally {
      writtenNanos += System.nanoTime() - writeStart;
    }
    if (forced
        || written.size() >= config.maxBatch()
        || System.nanoTime() - firstWrittenNanos >= LAZY_WAIT_MAX_NANOS) {
      syncWritten();
    }
  }

  /** Syncs every record written since the last sync and completes their futures. */
  private void syncWritten() {
    if (written.isEmpty()) {
      return;
    }
    long syncStart = System.nanoTime();
    try {
      config.beforeSync().run();
      syncTouched(touched);
    } catch (IOException | RuntimeException e) {
      failWritePath(e, List.of());
      return;
    }
    long syncEnd = System.nanoTime();
    int count = written.size();
    durablePosition = writtenPositions[count - 1];
    for (int i = 0; i < count; i++) {
      written.get(i).future().complete(writtenPositions[i]);
    }
    written.clear();
    touched.clear();
    // Files left behind by a roll are complete and now synced: their channels are done.
    for (Integer old : List.copyOf(cycleChannels.keySet())) {
      if (old < writingCycle) {
        closeQuietly(cycleChannels.remove(old));
      }
    }
    stats.batchDone(count, writtenNanos, syncEnd - syncStart, System.nanoTime() - syncEnd);
    writtenNanos = 0;
  }

  /** A write or sync failed: nothing written since the last sync may be durable. */
  private void failWritePath(Exception e, List<Pending> batch) {
    WalSyncException syncFailed =
        new WalSyncException(
            "WAL "
                + directory
                + ": writing or syncing a batch of "
                + Math.max(written.size(), batch.size())
                + " records failed; the WAL accepts no more appends: "
                + e,
            e);
    stopAccepting(syncFailed, batch);
  }

  /**
   * From now on every append fails with {@code e}, and so does everything the writer holds (written
   * or in {@code batch}, not known durable) or that is still queued.
   */
  private void stopAccepting(WalException e, List<Pending> batch) {
    failure = e;
    written.forEach(p -> p.future().completeExceptionally(e));
    batch.forEach(p -> p.future().completeExceptionally(e));
    written.clear();
    failAllQueued(e);
  }

  private WalDiskFullException checkDiskReserve(long batchBytes) {
    long usable;
    try {
      usable = usableSpace.usableBytes(directory);
    } catch (IOException e) {
      return new WalDiskFullException("cannot read usable space of " + directory + ": " + e, e);
    }
    if (usable - batchBytes < config.diskReserveBytes()) {
      return new WalDiskFullException(
          "WAL "
              + directory
              + ": only "
              + usable
              + " usable bytes left, below the reserve of "
              + config.diskReserveBytes()
              + " (Chronicle maps files; writing to a full disk would crash the JVM)");
    }
    return null;
  }

  /**
   * Encodes one record into a Chronicle document, validates it in place, returns its position.
   *
   * <p>Validation reads the document back from the mapped file and compares it byte for byte with
   * the frame we encoded (whose CRC32C {@link RecordCodec#encodeInto} computed over those same
   * bytes). That is a stronger check of what Chronicle holds than decoding the read-back copy (any
   * differing byte fails, not only those a CRC catches) and cheaper: no second CRC, no payload
   * copy, no allocation. The frame format itself is covered by the codec's properties, and every
   * read (open, replay) still decodes and CRC-checks each record.
   */
  private long writeFrame(int type, long durableThrough, byte[] payload, boolean runHook) {
    int length = RecordCodec.frameLength(payload.length);
    if (frameBuffer.length < length) {
      frameBuffer = new byte[length];
      readBackBuffer = new byte[length];
    }
    byte[] frame = frameBuffer;
    RecordCodec.encodeInto(frame, type, durableThrough, payload);
    try (DocumentContext dc = appender.writingDocument()) {
      Bytes<?> bytes = dc.wire().bytes();
      long start = bytes.writePosition();
      int half = length / 2;
      bytes.write(frame, 0, half);
      if (runHook) {
        config.midRecordWrite().run();
      }
      bytes.write(frame, half, length - half);
      // Validate what landed in the mapped file, not what we meant to write; but only inside the
      // chunk mapped now. A frame that began in the previous chunk may lie in memory Chronicle has
      // unmapped since, and reading there kills the JVM (SIGSEGV), so such a frame (about one per
      // chunk) is left to the CRC check of every read.
      if (!bytes.bytesStore().inside(start, length)) {
        stats.validationSkipped();
      } else {
        validate(bytes, start, frame, length);
      }
    }
    return finishWrite();
  }

  /** Reads the frame back from the mapped chunk and compares it byte for byte. */
  private void validate(Bytes<?> bytes, long start, byte[] frame, int length) {
    byte[] check = readBackBuffer;
    long read = bytes.read(start, check, 0, length);
    if (read != length || !Arrays.equals(frame, 0, length, check, 0, length)) {
      throw new IllegalStateException(
          "record of "
              + length
              + " bytes failed validation right after writing: the mapped file holds "
              + read
              + " bytes that differ from the encoded frame");
    }
  }

  /** The position of the document just written; notices a new cycle file. */
  private long finishWrite() {
    long position = appender.lastIndexAppended();
    int cycle = appender.cycle();
    if (cycle != writingCycle) {
      onNewCycle(cycle, appender.currentFile());
    }
    return position;
  }

  /** A new cycle file exists: make its directory entry durable and keep a channel to force it. */
  private void onNewCycle(int cycle, File file) {
    try {
      if (!cycleChannels.containsKey(cycle)) {
        cycleChannels.put(cycle, FileChannel.open(file.toPath(), StandardOpenOption.WRITE));
      }
      fsyncDirectory(directory);
    } catch (IOException e) {
      throw new WalSyncException("cannot sync new WAL file " + file + ": " + e, e);
    }
    cycleFiles.put(cycle, file);
    // The previous file's channel stays open until a sync has covered what was written there.
    writingCycle = cycle;
  }

  /**
   * Forces each cycle file written in this batch. On Linux, fdatasync of the file writes back its
   * dirty page-cache pages, which include pages dirtied through Chronicle's shared mapping.
   * force(false) suffices: Chronicle sizes files before mapping, and fdatasync also flushes a size
   * change.
   */
  private void syncTouched(List<Integer> cycles) {
    for (int cycle : cycles) {
      FileChannel ch = cycleChannels.get(cycle);
      if (ch == null) {
        throw new IllegalStateException("no channel for written cycle " + cycle);
      }
      try {
        ch.force(false);
      } catch (IOException e) {
        throw new WalSyncException("force of " + cycleFiles.get(cycle) + " failed: " + e, e);
      }
    }
  }

  private void failAllQueued(WalException e) {
    List<Pending> rest = new ArrayList<>();
    pending.drainTo(rest, Integer.MAX_VALUE);
    rest.forEach(p -> p.future().completeExceptionally(e));
  }

  private void closeWriterResources() {
    if (appender != null) {
      appender.close();
      appender = null;
    }
    cycleChannels.values().forEach(ChronicleWal::closeQuietly);
    cycleChannels.clear();
  }

  static void fsyncDirectory(Path dir) throws IOException {
    try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
      ch.force(true);
    }
  }

  private static void closeQuietly(FileChannel ch) {
    if (ch == null) {
      return;
    }
    try {
      ch.close();
    } catch (IOException e) {
      log.warn("closing WAL file channel failed", e);
    }
  }

  // ---------------------------------------------------------------- replay, retention, close

  @Override
  public void replay(long fromPosition, Consumer<WalRecord> consumer) {
    if (closed) {
      throw closedException();
    }
    long durable = durablePosition;
    try (ExcerptTailer tailer = queue.createTailer()) {
      if (fromPosition <= 0 || !tailer.moveToIndex(fromPosition)) {
        tailer.toStart();
      }
      while (true) {
        try (DocumentContext dc = tailer.readingDocument()) {
          if (!dc.isPresent()) {
            return;
          }
          if (dc.isMetaData()) {
            continue;
          }
          long position = dc.index();
          if (position > durable) {
            return;
          }
          if (position < fromPosition || isCut(position)) {
            continue;
          }
          Bytes<?> bytes = dc.wire().bytes();
          long offset = bytes.readPosition();
          byte[] frameBytes = new byte[(int) bytes.readRemaining()];
          bytes.read(frameBytes);
          RecordCodec.Frame frame;
          try {
            frame = RecordCodec.decode(frameBytes);
          } catch (RecordCodec.InvalidFrameException e) {
            throw new WalCorruptedException(
                "WAL record at position "
                    + position
                    + " in file "
                    + tailer.currentFile()
                    + " (byte offset "
                    + offset
                    + ") is corrupt: "
                    + e.getMessage());
          }
          if (frame.type() >= 0) {
            consumer.accept(new WalRecord(position, frame.type(), frame.payload()));
          }
        }
      }
    }
  }

  /**
   * Deletes whole cycle files that lie entirely below {@code position}: those of cycles before the
   * position's cycle, and never the cycle being written.
   */
  @Override
  public synchronized void retainFrom(long position) {
    if (closed) {
      throw closedException();
    }
    if (position <= 0) {
      return;
    }
    int keepFrom = Math.min(queue.rollCycle().toCycle(position), writingCycle);
    boolean deleted = false;
    for (Map.Entry<Integer, File> e : cycleFiles.headMap(keepFrom, false).entrySet()) {
      try {
        Files.deleteIfExists(e.getValue().toPath());
        cycleFiles.remove(e.getKey());
        deleted = true;
        log.info("WAL {}: retention deleted {}", directory, e.getValue());
      } catch (IOException ex) {
        throw new WalException("cannot delete WAL file " + e.getValue() + ": " + ex, ex);
      }
    }
    if (deleted) {
      queue.refreshDirectoryListing();
    }
  }

  /** The cycle files currently kept, oldest first (for tests and tooling). */
  public List<Path> files() {
    return cycleFiles.values().stream().map(File::toPath).toList();
  }

  /** Counters of the write path since open (batch sizes, time writing, syncing, completing). */
  public WalStats stats() {
    return stats.snapshot();
  }

  /** Highest durable position, or -1 for an empty WAL. */
  public long durablePosition() {
    return durablePosition;
  }

  /** Finishes (syncs) what is already queued, then releases the files and the lock. */
  @Override
  public void close() {
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
    }
    try {
      writer.join();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failAllQueued(closedException());
    queue.close();
    directoryLock.close();
  }
}
