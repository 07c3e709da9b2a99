package io.decree.core;

/** Where a protocol message goes: the coordinator (found by the driver) or a named participant. */
public sealed interface Peer permits Peer.Coordinator, ParticipantRef {

  /** The coordinator; in a cluster, the driver routes to the current leader. */
  Coordinator COORDINATOR = new Coordinator();

  /** The single coordinator destination. */
  record Coordinator() implements Peer {
    @Override
    public String toString() {
      return "coordinator";
    }
  }
}
