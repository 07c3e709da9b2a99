package io.decree.jepsen.net;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.util.Arrays;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * One network link of the harness: a TCP proxy on 127.0.0.1 that forwards to one node, with faults
 * the harness switches on and off. No root and no {@code tc netem} needed.
 *
 * <ul>
 *   <li>{@link Mode#CUT_BOTH}, {@link Mode#CUT_REQUESTS}, {@link Mode#CUT_REPLIES}: a partition.
 *       The proxy stops reading in the cut direction, so bytes wait in the kernel buffers as they
 *       would on a silent network; new connections are accepted and then hear nothing. On heal the
 *       held bytes flow again (TCP retransmission after a partition heals).
 *   <li>{@link Mode#DROP_REPLIES}: lost replies. Requests are forwarded (the prepare or commit
 *       runs), every byte of every answer is discarded. The byte stream is broken by then, so on
 *       heal the link's connections are closed and the callers reconnect.
 *   <li>{@link #delayMillis}: every chunk waits this long before it is forwarded.
 * </ul>
 *
 * <p>Two threads per connection (one per direction) plus one acceptor; all are daemons and all end
 * when {@link #close()} closes the sockets.
 */
public final class FaultProxy implements AutoCloseable {
  /** What the link does to traffic. "Requests" flow from the caller to the target. */
  public enum Mode {
    OK,
    CUT_BOTH,
    CUT_REQUESTS,
    CUT_REPLIES,
    DROP_REPLIES
  }

  private static final int CONNECT_TIMEOUT_MILLIS = 2_000;
  private static final int CONNECTIONS_MAX = 256;

  private final String name;
  private final ServerSocket server;
  private final InetSocketAddress target;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object(); // guards mode and delayMillis; waiters wait on it
  private Mode mode = Mode.OK;
  private long delayMillis;
  private volatile boolean closed;

  private FaultProxy(String name, ServerSocket server, InetSocketAddress target) {
    this.name = name;
    this.server = server;
    this.target = target;
  }

  /**
   * A link without a listener of its own: a {@link SourceDispatcher} hands it the connections that
   * come from its source ({@link #adopt}).
   */
  public static FaultProxy detached(String name, int targetPort) {
    return new FaultProxy(
        name, null, new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
  }

  /** Listens on {@code listenPort} (0: any free port) and forwards to {@code targetPort}. */
  public static FaultProxy start(String name, int listenPort, int targetPort) {
    FaultProxy proxy =
        new FaultProxy(
            name,
            listen("proxy " + name, listenPort),
            new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort));
    Thread acceptor = new Thread(proxy::acceptLoop, "proxy-" + name + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
    return proxy;
  }

  public String name() {
    return name;
  }

  public int port() {
    if (server == null) {
      throw new IllegalStateException(name + " is reached through its dispatcher, not a port");
    }
    return server.getLocalPort();
  }

  /** host:port callers dial instead of the target. */
  public String address() {
    return "127.0.0.1:" + port();
  }

  public Mode mode() {
    synchronized (lock) {
      return mode;
    }
  }

  public void setMode(Mode next) {
    Mode previous;
    synchronized (lock) {
      previous = mode;
      mode = next;
      lock.notifyAll();
    }
    if (previous == Mode.DROP_REPLIES && next != Mode.DROP_REPLIES) {
      dropConnections(); // their answers were cut mid-frame: the streams are garbage now
    }
  }

  public void setDelayMillis(long millis) {
    synchronized (lock) {
      delayMillis = Math.max(0, millis);
      lock.notifyAll();
    }
  }

  /** Back to a clean link: no cut, no delay. */
  public void heal() {
    setDelayMillis(0);
    setMode(Mode.OK);
  }

  /** Closes every open connection through this link (callers see a reset and reconnect). */
  public void dropConnections() {
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    sockets.clear();
  }

  private void acceptLoop() {
    acceptEach(server, () -> closed, this::adopt);
  }

  /** Hands every connection {@code server} accepts to {@code handler}, until {@code closed}. */
  static void acceptEach(
      ServerSocket server,
      java.util.function.BooleanSupplier closed,
      java.util.function.Consumer<Socket> handler) {
    while (!closed.getAsBoolean()) {
      Socket caller;
      try {
        caller = server.accept();
      } catch (IOException e) {
        if (closed.getAsBoolean()) {
          return;
        }
        continue;
      }
      handler.accept(caller);
    }
  }

  /** Forwards a caller's connection to the target through this link's faults. */
  public void adopt(Socket caller) {
    if (closed || sockets.size() >= CONNECTIONS_MAX) {
      closeQuietly(caller);
      return;
    }
    Socket callee = new Socket();
    try {
      callee.connect(target, CONNECT_TIMEOUT_MILLIS);
    } catch (IOException refused) {
      // The node is down: the caller sees what it would see without the proxy.
      closeQuietly(caller);
      closeQuietly(callee);
      return;
    }
    sockets.add(caller);
    sockets.add(callee);
    pump(caller, callee, true);
    pump(callee, caller, false);
  }

  private void pump(Socket from, Socket to, boolean requests) {
    Thread t =
        new Thread(
            () -> {
              byte[] buffer = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                while (!closed) {
                  awaitOpen(requests);
                  int n = in.read(buffer);
                  if (n < 0) {
                    break;
                  }
                  // Read before the cut began: hold it until the link heals, then deliver.
                  if (!awaitOpen(requests)) {
                    continue; // discarded: a lost reply
                  }
                  long delay = currentDelay();
                  if (delay > 0) {
                    sleep(delay);
                  }
                  out.write(Arrays.copyOf(buffer, n));
                  out.flush();
                }
              } catch (SocketException closedOrReset) {
                // The other side went away or the link was dropped: end this connection.
              } catch (IOException e) {
                // Same as above; there is nobody to report a broken test link to but the log.
              } finally {
                closeQuietly(from);
                closeQuietly(to);
                sockets.remove(from);
                sockets.remove(to);
              }
            },
            "proxy-" + name + (requests ? "-req" : "-rep"));
    t.setDaemon(true);
    t.start();
  }

  /**
   * Waits while this direction is cut. False when the bytes of this direction are to be thrown away
   * (lost replies).
   */
  private boolean awaitOpen(boolean requests) {
    synchronized (lock) {
      while (!closed && held(mode, requests)) {
        try {
          lock.wait(TimeUnit.SECONDS.toMillis(1));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return requests || mode != Mode.DROP_REPLIES;
    }
  }

  private static boolean held(Mode mode, boolean requests) {
    return switch (mode) {
      case OK, DROP_REPLIES -> false;
      case CUT_BOTH -> true;
      case CUT_REQUESTS -> requests;
      case CUT_REPLIES -> !requests;
    };
  }

  private long currentDelay() {
    synchronized (lock) {
      return delayMillis;
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Closes a socket or listener that may be broken already; there is nobody to tell. */
  static void closeQuietly(java.io.Closeable s) {
    try {
      s.close();
    } catch (IOException ignored) {
      // closing a socket that is already broken
    }
  }

  /** A listener on 127.0.0.1 ({@code port} 0: any free port). */
  static ServerSocket listen(String what, int port) {
    try {
      ServerSocket server = new ServerSocket();
      server.setReuseAddress(true);
      server.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
      return server;
    } catch (IOException e) {
      throw new UncheckedIOException(what + " cannot listen: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    closed = true;
    synchronized (lock) {
      lock.notifyAll();
    }
    if (server != null) {
      closeQuietly(server);
    }
    dropConnections();
  }

  @Override
  public String toString() {
    return name
        + " "
        + (server == null ? "(dispatched)" : address())
        + " -> "
        + target.getPort()
        + " "
        + mode();
  }
}
