package io.decree.coordinator;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A counter bumped durably at every start, so transaction ids from two incarnations never clash
 * (ids embed it) even if the clock stepped back.
 */
final class Incarnation {
  private Incarnation() {}

  static int next(Path dataDir) {
    Path file = dataDir.resolve("incarnation");
    try {
      Files.createDirectories(dataDir);
      int previous = Files.exists(file) ? Integer.parseInt(Files.readString(file).trim()) : 0;
      int next = previous + 1;
      Path tmp = dataDir.resolve("incarnation.tmp");
      try (FileChannel ch =
          FileChannel.open(
              tmp,
              StandardOpenOption.CREATE,
              StandardOpenOption.TRUNCATE_EXISTING,
              StandardOpenOption.WRITE)) {
        ch.write(
            ByteBuffer.wrap(
                Integer.toString(next).getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
        ch.force(true);
      }
      Files.move(
          tmp,
          file,
          java.nio.file.StandardCopyOption.ATOMIC_MOVE,
          java.nio.file.StandardCopyOption.REPLACE_EXISTING);
      try (FileChannel dir = FileChannel.open(dataDir, StandardOpenOption.READ)) {
        dir.force(true); // the rename itself must survive a power loss
      }
      return next;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot update " + file + ": " + e.getMessage(), e);
    } catch (NumberFormatException e) {
      throw new IllegalStateException(file + " is corrupt: " + e.getMessage(), e);
    }
  }
}
