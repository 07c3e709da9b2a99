package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.coordinator.CoordinatorCore;
import java.util.function.Consumer;

/**
 * The coordinator side of a simulation, as clients, participants and the fault injector see it: one
 * coordinator with its own log ({@link SimCoordinator}), or a cluster of members sharing a
 * replicated decision log ({@link SimCluster}).
 */
interface CoordinatorSide {
  void start();

  /** After the faults: restart whatever is down. */
  void heal();

  /** Crashes a coordinator node (if up) and restarts it after {@code downMillis}. */
  void crash(long downMillis);

  /** The network name of a coordinator node to cut from a participant. */
  String partitionTarget();

  /** A client or participant call, sent over the network to whoever the caller thinks leads. */
  void call(
      String caller, Consumer<CoordinatorCore> input, long callId, Consumer<ClientReply> replyTo);

  /** A participant's message to the coordinator, sent over the network. */
  void message(String from, Message message);

  /** The caller heard nothing back in time: in a cluster it tries another member next. */
  void suspect(String caller);

  /** The final check's status query, straight to the (leading) core; false if none leads now. */
  boolean askStatus(long callId, TxId txId);

  /** The first decision for {@code txId} that is durable (what an admin query would find). */
  Decision syncedDecision(TxId txId);

  /** Leader changes so far (0 for one coordinator). */
  default int leaderChanges() {
    return 0;
  }

  /** Appends refused because they carried a term that was no longer current. */
  default long fencedAppends() {
    return 0;
  }
}
