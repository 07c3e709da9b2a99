package io.decree.jepsen.net;

import java.net.ServerSocket;
import java.net.Socket;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * One address in front of a node that every peer dials, split into a link per peer: each accepted
 * connection is handed to the {@link FaultProxy} of the peer that opened it ({@link SocketOwners}),
 * so that "c1 -> c2" can be cut while "c3 -> c2" works, although c1 and c3 dial the same address.
 * Needed for Raft traffic: Ratis members learn each other's addresses from the configuration the
 * leader replicates, so every member dials one address per peer.
 *
 * <p>A connection whose owner is not found (not one of the peers) goes through the fallback link.
 */
public final class SourceDispatcher implements AutoCloseable {
  private final String name;
  private final ServerSocket server;
  private final Supplier<Map<String, Long>> peers;
  private final Function<String, FaultProxy> linkFrom;
  private final FaultProxy fallback;
  private volatile boolean closed;

  private SourceDispatcher(
      String name,
      ServerSocket server,
      Supplier<Map<String, Long>> peers,
      Function<String, FaultProxy> linkFrom,
      FaultProxy fallback) {
    this.name = name;
    this.server = server;
    this.peers = peers;
    this.linkFrom = linkFrom;
    this.fallback = fallback;
  }

  /**
   * @param peers the peers' names and current pids (asked at each new connection: pids change on
   *     restart)
   * @param linkFrom the link of a peer by its name
   */
  public static SourceDispatcher start(
      String name,
      Supplier<Map<String, Long>> peers,
      Function<String, FaultProxy> linkFrom,
      FaultProxy fallback) {
    SourceDispatcher d =
        new SourceDispatcher(
            name, FaultProxy.listen("dispatcher " + name, 0), peers, linkFrom, fallback);
    Thread acceptor = new Thread(d::acceptLoop, "dispatch-" + name);
    acceptor.setDaemon(true);
    acceptor.start();
    return d;
  }

  /** host:port the peers dial. */
  public String address() {
    return "127.0.0.1:" + server.getLocalPort();
  }

  private void acceptLoop() {
    FaultProxy.acceptEach(server, () -> closed, this::dispatch);
  }

  private void dispatch(Socket caller) {
    try {
      Optional<String> owner = SocketOwners.ownerOf(caller, peers.get());
      if (owner.isEmpty()) {
        // Rare enough to say so: such a connection escapes the per-member faults.
        System.err.printf(
            "dispatcher %s: no known owner for the connection from port %d; it takes %s%n",
            name, caller.getPort(), fallback.name());
      }
      owner.map(linkFrom).orElse(fallback).adopt(caller);
    } catch (RuntimeException e) {
      // One bad connection must not stop the link: refuse it, the caller reconnects.
      System.err.printf("dispatcher %s: dropped a connection: %s%n", name, e);
      FaultProxy.closeQuietly(caller);
    }
  }

  @Override
  public void close() {
    closed = true;
    FaultProxy.closeQuietly(server);
  }

  @Override
  public String toString() {
    return name + " " + address();
  }
}
