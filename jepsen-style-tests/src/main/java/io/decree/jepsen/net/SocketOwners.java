package io.decree.jepsen.net;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * Which of the harness's child processes opened a TCP connection on 127.0.0.1, found the way {@code
 * ss -p} finds it: the caller's socket inode from {@code /proc/net/tcp6} (Java's sockets are
 * dual-stack) or {@code /proc/net/tcp}, then the process whose {@code /proc/PID/fd} holds that
 * inode. Linux only; it needs no privileges for the harness's own children.
 */
public final class SocketOwners {
  private SocketOwners() {}

  /**
   * The name of the candidate that owns the far end of {@code accepted}, if any.
   *
   * @param candidates node name to pid (pids below 1 are skipped)
   */
  public static Optional<String> ownerOf(Socket accepted, Map<String, Long> candidates) {
    List<String> inodes = new ArrayList<>();
    inodes.addAll(inodes(Path.of("/proc/net/tcp6"), accepted.getPort(), accepted.getLocalPort()));
    inodes.addAll(inodes(Path.of("/proc/net/tcp"), accepted.getPort(), accepted.getLocalPort()));
    for (String inode : inodes) {
      String link = "socket:[" + inode + "]";
      for (var e : candidates.entrySet()) {
        if (e.getValue() > 0 && holds(e.getValue(), link)) {
          return Optional.of(e.getKey());
        }
      }
    }
    return Optional.empty();
  }

  /**
   * The inodes of the sockets whose local port is {@code localPort} and remote port {@code
   * remotePort} (normally one; ports alone could match a stranger's socket too).
   */
  static List<String> inodes(Path table, int localPort, int remotePort) {
    String local = String.format(":%04X", localPort);
    String remote = String.format(":%04X", remotePort);
    List<String> out = new ArrayList<>();
    // Read line by line: proc files report size 0, so whole-file reads can come back short.
    try (BufferedReader in = Files.newBufferedReader(table, StandardCharsets.US_ASCII)) {
      in.readLine(); // header
      for (String line = in.readLine(); line != null; line = in.readLine()) {
        String[] f = line.trim().split("\\s+");
        if (f.length > 9 && f[1].endsWith(local) && f[2].endsWith(remote)) {
          out.add(f[9]);
        }
      }
    } catch (IOException | RuntimeException unreadable) {
      return out;
    }
    return out;
  }

  private static boolean holds(long pid, String link) {
    try (DirectoryStream<Path> fds = Files.newDirectoryStream(Path.of("/proc", pid + "", "fd"))) {
      for (Path fd : fds) {
        try {
          if (Files.readSymbolicLink(fd).toString().equals(link)) {
            return true;
          }
        } catch (IOException | UnsupportedOperationException closedMeanwhile) {
          // the descriptor went away while we looked
        }
      }
    } catch (IOException | RuntimeException gone) {
      return false;
    }
    return false;
  }
}
