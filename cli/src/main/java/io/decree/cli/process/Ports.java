package io.decree.cli.process;

import java.io.BufferedReader;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Ports for nodes that are killed and restarted on the same port. A port from the kernel's
 * ephemeral range can be taken, between a kill and the restart, as the local end of some outgoing
 * connection (Raft and gRPC open many), and the restart then cannot bind. So ports come from just
 * below that range, are checked free on 127.0.0.1, and are never handed out twice by this JVM.
 */
public final class Ports {
  private static final Set<Integer> handedOut = new HashSet<>();
  private static final int SPAN = 8_000;

  private Ports() {}

  /** A free loopback port below the ephemeral range, not handed out before by this JVM. */
  public static synchronized int restartable() {
    int ceiling = ephemeralRangeStart();
    int floor = Math.max(1_024, ceiling - SPAN);
    for (int attempt = 0; attempt < 1_000; attempt++) {
      int port = ThreadLocalRandom.current().nextInt(floor, ceiling);
      if (handedOut.contains(port)) {
        continue;
      }
      try (ServerSocket probe = new ServerSocket()) {
        probe.setReuseAddress(false);
        probe.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1);
        handedOut.add(port);
        return port;
      } catch (IOException inUse) {
        // another one
      }
    }
    throw new IllegalStateException(
        "no free port on 127.0.0.1 between " + floor + " and " + ceiling + " after 1000 tries");
  }

  /** First port of the kernel's ephemeral range (Linux), else the common default 32768. */
  static int ephemeralRangeStart() {
    // Read line by line: /proc files report size 0, and a whole-file read may come back short.
    try (BufferedReader in =
        Files.newBufferedReader(Path.of("/proc/sys/net/ipv4/ip_local_port_range"))) {
      String line = in.readLine();
      int start = Integer.parseInt(line.strip().split("\\s+")[0]);
      return start > 2_048 && start <= 65_535 ? start : 32_768;
    } catch (IOException | RuntimeException unreadable) {
      return 32_768;
    }
  }
}
