package io.decree.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Kills real child JVMs with SIGKILL and checks every acknowledged record survives. */
class ChronicleWalCrashTest {
  private static final boolean SOAK = Boolean.getBoolean("decree.soak");

  @TempDir Path tmp;

  private WalConfig config(Path dir) {
    return WalConfig.builder().directory(dir).maxRecordBytes(8192).build();
  }

  /** Parses "ACK seq position" lines into seq -> position. */
  private static void collectAcks(List<String> lines, Map<Long, Long> acks) {
    for (String line : lines) {
      String[] parts = line.split(" ");
      if (parts.length == 3 && parts[0].equals("ACK")) {
        acks.put(Long.parseLong(parts[1]), Long.parseLong(parts[2]));
      }
    }
  }

  /** Reopens the WAL and checks every acknowledged record is there, intact, in order. */
  private void verifyAcknowledged(Path dir, Map<Long, Long> acks) {
    try (ChronicleWal wal = ChronicleWal.open(config(dir))) {
      Map<Long, byte[]> byPosition = new HashMap<>();
      List<Long> order = new ArrayList<>();
      wal.replay(
          r -> {
            byPosition.put(r.position(), r.payload());
            order.add(r.position());
          });
      assertThat(order).isSorted().doesNotHaveDuplicates();
      acks.forEach(
          (seq, position) -> {
            byte[] payload = byPosition.get(position);
            assertThat(payload)
                .as("acknowledged seq %d at position %d", seq, position)
                .isNotNull()
                .isEqualTo(CrashChild.payloadFor(seq));
          });
    }
  }

  @Test
  void sigkillAtRandomMomentsLosesNoAcknowledgedRecord() throws Exception {
    long seed = System.nanoTime();
    Random random = new Random(seed);
    int rounds = SOAK ? 60 : 8;
    Path dir = tmp.resolve("wal");
    Map<Long, Long> acks = new HashMap<>();
    for (int round = 0; round < rounds; round++) {
      List<String> lines = new ArrayList<>();
      try (ChildJvm child =
          ChildJvm.start(
              tmp.resolve("child.log"),
              CrashChild.class,
              "append",
              dir.toString(),
              Long.toString(round * 10_000_000L))) {
        // Wait for the first acknowledgement so the kill lands while records are flowing.
        String first = child.nextLine(60_000);
        assertThat(first).as("child started (seed %d, round %d)", seed, round).isNotNull();
        lines.add(first);
        Thread.sleep(random.nextInt(400));
        lines.addAll(child.killAndDrain());
      }
      collectAcks(lines, acks);
      verifyAcknowledged(dir, acks);
    }
    assertThat(acks).as("seed %d", seed).hasSizeGreaterThan(rounds);
  }

  @Test
  void sigkillInTheMiddleOfARecordWriteIsCutCleanly() throws Exception {
    Path dir = tmp.resolve("wal");
    Map<Long, Long> acks = new HashMap<>();
    for (int round = 0; round < 2; round++) {
      List<String> lines = new ArrayList<>();
      try (ChildJvm child =
          ChildJvm.start(
              tmp.resolve("child.log"),
              CrashChild.class,
              "midwrite",
              dir.toString(),
              Long.toString(round * 10_000_000L),
              "50")) {
        assertThat(child.awaitLine("MIDWRITE", 60_000, lines)).isTrue();
        lines.addAll(child.killAndDrain());
      }
      collectAcks(lines, acks);
      assertThat(acks).hasSizeGreaterThanOrEqualTo(50 * (round + 1));
      verifyAcknowledged(dir, acks);
    }
    // The log stays appendable and reopenable after the cut.
    try (ChronicleWal wal = ChronicleWal.open(config(dir))) {
      long position = wal.append(1, CrashChild.payloadFor(99)).join();
      assertThat(position).isGreaterThan(acks.values().stream().max(Long::compare).orElseThrow());
    }
    acks.put(99L, acks.size() > 0 ? lastPosition(dir) : 0);
    verifyAcknowledged(dir, acks);
  }

  private long lastPosition(Path dir) {
    try (ChronicleWal wal = ChronicleWal.open(config(dir))) {
      return wal.durablePosition();
    }
  }

  @Test
  void aSecondProcessIsRefusedAtOnceWithTheHolderNamed() throws Exception {
    Path dir = tmp.resolve("wal");
    try (ChildJvm child =
        ChildJvm.start(tmp.resolve("child.log"), CrashChild.class, "hold", dir.toString())) {
      assertThat(child.awaitLine("READY", 60_000, new ArrayList<>())).isTrue();
      long start = System.nanoTime();
      assertThatThrownBy(() -> ChronicleWal.open(config(dir)))
          .isInstanceOf(WalLockedException.class)
          .hasMessageContaining("pid=" + child.pid())
          .hasMessageContaining("host=")
          .hasMessageContaining("since=");
      assertThat((System.nanoTime() - start) / 1_000_000).isLessThan(5_000);
      child.killAndDrain();
    }
    // The OS drops the lock with the process: the next open succeeds at once.
    try (ChronicleWal wal = ChronicleWal.open(config(dir))) {
      assertThat(wal.append(0, ByteBuffer.allocate(8).array()).join()).isPositive();
    }
  }
}
