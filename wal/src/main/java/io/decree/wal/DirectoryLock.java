package io.decree.wal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One writer per WAL directory, enforced with an OS file lock on {@code wal.lock} that also holds a
 * line naming the holder. Chronicle's own write lock would make a second process wait for its
 * timeout and then, if it thinks the holder is dead, break the lock; this fails at once instead.
 */
final class DirectoryLock implements AutoCloseable {
  static final String FILE_NAME = "wal.lock";

  /**
   * Directories locked by this JVM. Needed because POSIX drops all of a process's locks on a file
   * when any descriptor of it closes, so a same-process second open must not even open the file.
   */
  private static final Set<Path> HELD_IN_THIS_JVM = ConcurrentHashMap.newKeySet();

  private final Path directory;
  private final FileChannel channel;
  private final FileLock lock;

  private DirectoryLock(Path directory, FileChannel channel, FileLock lock) {
    this.directory = directory;
    this.channel = channel;
    this.lock = lock;
  }

  static DirectoryLock acquire(Path directory) {
    Path key = directory.toAbsolutePath().normalize();
    Path file = key.resolve(FILE_NAME);
    if (!HELD_IN_THIS_JVM.add(key)) {
      throw new WalLockedException(
          "WAL " + key + " is already open in this process; holder: " + readHolder(file));
    }
    FileChannel channel = null;
    try {
      channel =
          FileChannel.open(
              file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
      FileLock lock = channel.tryLock();
      if (lock == null) {
        String holder = readHolder(channel);
        channel.close();
        HELD_IN_THIS_JVM.remove(key);
        throw new WalLockedException("WAL " + key + " is locked by another process; " + holder);
      }
      String holder =
          "pid="
              + ProcessHandle.current().pid()
              + " host="
              + hostName()
              + " since="
              + Instant.now()
              + "\n";
      channel.truncate(0);
      channel.write(ByteBuffer.wrap(holder.getBytes(StandardCharsets.UTF_8)), 0);
      channel.force(true);
      return new DirectoryLock(key, channel, lock);
    } catch (IOException e) {
      closeQuietly(channel);
      HELD_IN_THIS_JVM.remove(key);
      throw new WalException("cannot lock WAL " + key + ": " + e, e);
    }
  }

  private static String readHolder(FileChannel channel) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(512);
    channel.read(buf, 0);
    String text = new String(buf.array(), 0, buf.position(), StandardCharsets.UTF_8).trim();
    return text.isEmpty() ? "holder unknown (lock file empty)" : "holder " + text;
  }

  private static String readHolder(Path file) {
    try {
      String text = Files.readString(file, StandardCharsets.UTF_8).trim();
      return text.isEmpty() ? "unknown" : text;
    } catch (IOException e) {
      return "unknown (" + e + ")";
    }
  }

  private static String hostName() {
    // Read locally rather than through InetAddress, which may ask a resolver.
    try {
      return Files.readString(Path.of("/proc/sys/kernel/hostname"), StandardCharsets.UTF_8).trim();
    } catch (IOException | RuntimeException e) {
      String env = System.getenv("HOSTNAME");
      return env == null ? "unknown-host" : env;
    }
  }

  private static void closeQuietly(FileChannel channel) {
    if (channel != null) {
      try {
        channel.close();
      } catch (IOException ignored) {
        // Already failing; the original error is the one to report.
      }
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
      channel.close();
    } catch (IOException e) {
      throw new WalException("cannot release lock of WAL " + directory + ": " + e, e);
    } finally {
      HELD_IN_THIS_JVM.remove(directory);
    }
  }
}
