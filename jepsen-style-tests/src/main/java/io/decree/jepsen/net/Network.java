package io.decree.jepsen.net;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every link of a run by name ({@code "p1->c1"}: what p1 dials to reach c1). Nodes never dial each
 * other directly, so every partition the nemesis wants is a set of links to cut.
 */
public final class Network implements AutoCloseable {
  private final Map<String, FaultProxy> links = new LinkedHashMap<>();
  private final List<SourceDispatcher> dispatchers = new ArrayList<>();
  private final List<FaultProxy> selfLinks = new ArrayList<>();

  /** A link from {@code from} to {@code to}, forwarding to the target's real port. */
  public synchronized FaultProxy link(String from, String to, int targetPort) {
    String name = name(from, to);
    FaultProxy existing = links.get(name);
    if (existing != null) {
      return existing;
    }
    FaultProxy proxy = FaultProxy.start(name, 0, targetPort);
    links.put(name, proxy);
    return proxy;
  }

  /**
   * One address for every peer of {@code to}, split into a link per peer ({@code "c1->c2"}, {@code
   * "c3->c2"}) and {@code "other->c2"} for connections from anyone else.
   *
   * @param pids the peers' names and current pids (each new connection asks)
   * @return the address the peers dial
   */
  public synchronized String dispatched(
      String to, int targetPort, java.util.function.Supplier<Map<String, Long>> pids) {
    for (String peer : pids.get().keySet()) {
      if (!peer.equals(to)) {
        links.put(name(peer, to), FaultProxy.detached(name(peer, to), targetPort));
      }
    }
    FaultProxy other = FaultProxy.detached(name("other", to), targetPort);
    links.put(other.name(), other);
    // A member also dials itself (its Raft client reaches every member, itself included): that
    // is no network link, so it is never cut.
    FaultProxy self = FaultProxy.detached("self:" + to, targetPort);
    selfLinks.add(self);
    SourceDispatcher d =
        SourceDispatcher.start(to, pids, peer -> peer.equals(to) ? self : get(peer, to), other);
    dispatchers.add(d);
    return d.address();
  }

  public static String name(String from, String to) {
    return from + "->" + to;
  }

  public synchronized FaultProxy get(String from, String to) {
    FaultProxy proxy = links.get(name(from, to));
    if (proxy == null) {
      throw new IllegalArgumentException("no link " + name(from, to) + "; have " + links.keySet());
    }
    return proxy;
  }

  /** Links whose name starts with {@code from + "->"} or ends with {@code "->" + to}. */
  public synchronized List<FaultProxy> touching(String node) {
    List<FaultProxy> out = new ArrayList<>();
    for (var e : links.entrySet()) {
      String[] ends = e.getKey().split("->");
      if (ends[0].equals(node) || ends[1].equals(node)) {
        out.add(e.getValue());
      }
    }
    return out;
  }

  public synchronized List<FaultProxy> all() {
    return List.copyOf(links.values());
  }

  public synchronized void healAll() {
    links.values().forEach(FaultProxy::heal);
  }

  @Override
  public synchronized void close() {
    dispatchers.forEach(SourceDispatcher::close);
    dispatchers.clear();
    selfLinks.forEach(FaultProxy::close);
    selfLinks.clear();
    links.values().forEach(FaultProxy::close);
    links.clear();
  }
}
