package io.decree.cluster;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The coordinator cluster's members as configured: {@code n1=127.0.0.1:7001,n2=127.0.0.1:7002}.
 * Parsing rejects anything ambiguous (duplicate ids or addresses, bad ports) with a message that
 * names the offending entry, because a typo here splits a cluster in ways that are hard to see
 * later.
 */
public record ClusterPeers(List<Peer> peers) {
  /** Upper bound on members: a decision log needs a handful, not dozens. */
  public static final int MEMBERS_MAX = 9;

  private static final Pattern ID = Pattern.compile("[A-Za-z0-9][A-Za-z0-9_-]{0,31}");
  private static final Pattern HOST = Pattern.compile("[A-Za-z0-9][A-Za-z0-9.-]{0,252}");

  /** One member: its Raft peer id and the host:port its Ratis server listens on. */
  public record Peer(String id, String host, int port) {
    public Peer {
      if (id == null || !ID.matcher(id).matches()) {
        throw new IllegalArgumentException(
            "bad member id '" + id + "' (letters, digits, '-', '_'; at most 32)");
      }
      if (host == null || !HOST.matcher(host).matches()) {
        throw new IllegalArgumentException("bad host '" + host + "' for member " + id);
      }
      if (port < 1 || port > 65535) {
        throw new IllegalArgumentException("bad port " + port + " for member " + id);
      }
    }

    public String address() {
      return host + ":" + port;
    }

    /** Parses {@code host:port} for member {@code id}. */
    public static Peer of(String id, String address) {
      if (address == null) {
        throw new IllegalArgumentException("member " + id + " has no address (expected host:port)");
      }
      int colon = address.lastIndexOf(':');
      if (colon <= 0 || colon == address.length() - 1) {
        throw new IllegalArgumentException(
            "member " + id + ": address '" + address + "' is not host:port");
      }
      int port;
      try {
        port = Integer.parseInt(address.substring(colon + 1));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "member " + id + ": port in '" + address + "' is not a number", e);
      }
      return new Peer(id, address.substring(0, colon), port);
    }
  }

  public ClusterPeers {
    peers = List.copyOf(peers);
    if (peers.isEmpty()) {
      throw new IllegalArgumentException("the cluster list is empty");
    }
    if (peers.size() > MEMBERS_MAX) {
      throw new IllegalArgumentException(
          "the cluster list has " + peers.size() + " members; at most " + MEMBERS_MAX);
    }
    Set<String> ids = new HashSet<>();
    Set<String> addresses = new HashSet<>();
    for (Peer p : peers) {
      if (!ids.add(p.id())) {
        throw new IllegalArgumentException("member id " + p.id() + " appears twice");
      }
      if (!addresses.add(p.address())) {
        throw new IllegalArgumentException(
            "address " + p.address() + " is given to two members (second: " + p.id() + ")");
      }
    }
  }

  /**
   * Parses {@code id=host:port[,id=host:port...]}; whitespace around entries is ignored.
   *
   * @throws IllegalArgumentException naming the bad entry
   */
  public static ClusterPeers parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException(
          "the cluster list is empty (expected like n1=127.0.0.1:7001,n2=127.0.0.1:7002)");
    }
    if (text.length() > 4096) {
      throw new IllegalArgumentException("the cluster list is too long");
    }
    List<Peer> peers = new ArrayList<>();
    for (String raw : text.split(",", -1)) {
      String entry = raw.strip();
      int eq = entry.indexOf('=');
      if (eq <= 0) {
        throw new IllegalArgumentException(
            "bad cluster entry '" + entry + "' (expected id=host:port)");
      }
      peers.add(Peer.of(entry.substring(0, eq).strip(), entry.substring(eq + 1).strip()));
    }
    return new ClusterPeers(peers);
  }

  public Optional<Peer> find(String id) {
    return peers.stream().filter(p -> p.id().equals(id)).findFirst();
  }

  /** The member with {@code id}, or a clear error naming the ids that exist. */
  public Peer require(String id) {
    return find(id)
        .orElseThrow(
            () ->
                new IllegalArgumentException(
                    "node id " + id + " is not in the cluster list " + this));
  }

  @Override
  public String toString() {
    StringBuilder text = new StringBuilder();
    for (Peer p : peers) {
      if (text.length() > 0) {
        text.append(',');
      }
      text.append(p.id()).append('=').append(p.address());
    }
    return text.toString();
  }
}
