package io.decree.wal;

import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs in a child JVM for the crash tests. Modes:
 *
 * <ul>
 *   <li>{@code append DIR SEQBASE}: appends forever (up to 64 in flight), printing {@code ACK seq
 *       position} for each acknowledged record.
 *   <li>{@code midwrite DIR SEQBASE N}: after N acknowledged records, the next record's write
 *       pauses halfway (after printing {@code MIDWRITE}) until the parent kills it.
 *   <li>{@code hold DIR}: opens the WAL, prints {@code READY}, waits to be killed.
 * </ul>
 */
public final class CrashChild {
  private CrashChild() {}

  /** The payload for a sequence number: its seq, then a seeded, random length of filler. */
  static byte[] payloadFor(long seq) {
    Random random = new Random(seq * 31 + 7);
    byte[] payload = new byte[8 + random.nextInt(3000)];
    random.nextBytes(payload);
    ByteBuffer.wrap(payload).putLong(seq);
    return payload;
  }

  public static void main(String[] args) throws Exception {
    PrintStream out = System.out;
    String mode = args[0];
    Path dir = Path.of(args[1]);
    WalConfig.Builder config = WalConfig.builder().directory(dir).maxRecordBytes(8192);
    if (mode.equals("hold")) {
      ChronicleWal.open(config.build());
      out.println("READY");
      out.flush();
      Thread.sleep(Long.MAX_VALUE);
    }
    long seqBase = Long.parseLong(args[2]);
    long pauseAfter = mode.equals("midwrite") ? Long.parseLong(args[3]) : Long.MAX_VALUE;
    AtomicLong acked = new AtomicLong();
    config.midRecordWrite(
        () -> {
          if (acked.get() >= pauseAfter) {
            synchronized (out) {
              out.println("MIDWRITE");
              out.flush();
            }
            try {
              Thread.sleep(Long.MAX_VALUE);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          }
        });
    ChronicleWal wal = ChronicleWal.open(config.build());
    Semaphore inFlight = new Semaphore(64);
    for (long seq = seqBase; ; seq++) {
      inFlight.acquire();
      long s = seq;
      wal.append(1, payloadFor(seq))
          .whenComplete(
              (position, error) -> {
                inFlight.release();
                if (error == null) {
                  acked.incrementAndGet();
                  synchronized (out) {
                    out.println("ACK " + s + " " + position);
                    out.flush();
                  }
                }
              });
      if (pauseAfter != Long.MAX_VALUE && seq - seqBase > pauseAfter + 1000) {
        Thread.sleep(Long.MAX_VALUE);
      }
    }
  }
}
