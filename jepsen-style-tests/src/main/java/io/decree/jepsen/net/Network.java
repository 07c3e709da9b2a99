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
    links.values().forEach(FaultProxy::close);
    links.clear();
  }
}
