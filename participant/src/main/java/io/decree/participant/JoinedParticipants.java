package io.decree.participant;

import io.decree.node.grpc.TxIdHeader;
import io.decree.proto.v1.ParticipantRef;
import io.grpc.Context;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * What a client learned about one transaction's participants while it ran ("enlisting on the way
 * back"): each business call under it asked the participant to start work without enlisting and to
 * name itself in its answer's trailer; the commit names them all to the coordinator.
 *
 * <p>The rule that keeps this safe: a commit may only name participants if the client heard every
 * call's answer. A call that ended without naming its participant (lost, timed out, cancelled) may
 * have started work there that the coordinator would never prepare; such a transaction is rolled
 * back instead. A call still running at commit is a caller's mistake and is refused; calls started
 * after the commit are refused too.
 */
final class JoinedParticipants {
  /** Where the business calls made under {@link DecreeClient#inTransaction} find this. */
  static final Context.Key<JoinedParticipants> CONTEXT = Context.key("decree-joined");

  private final String txId;
  private final long deadlineUnixMillis;
  private final Map<String, ParticipantRef> named = new LinkedHashMap<>();
  private final List<String> unconfirmed = new ArrayList<>();
  private int running;
  private boolean closing;

  JoinedParticipants(String txId, long deadlineUnixMillis) {
    this.txId = txId;
    this.deadlineUnixMillis = deadlineUnixMillis;
  }

  String txId() {
    return txId;
  }

  long deadlineUnixMillis() {
    return deadlineUnixMillis;
  }

  /**
   * A business call is about to start under this transaction.
   *
   * @return empty, or why it must not (the commit or rollback has begun)
   */
  synchronized String callStarting() {
    if (closing) {
      return "transaction " + txId + " is already committing or rolling back; no new work joins it";
    }
    running++;
    return "";
  }

  /** A business call ended; its trailers name the participant, unless it never answered. */
  synchronized void callEnded(String method, Status status, Metadata trailers) {
    running--;
    String enlisted = trailers.get(TxIdHeader.ENLISTED);
    if (enlisted != null) {
      int eq = enlisted.indexOf('=');
      if (eq > 0 && eq < enlisted.length() - 1) {
        String name = enlisted.substring(0, eq);
        named.put(
            name,
            ParticipantRef.newBuilder()
                .setName(name)
                .setAddress(enlisted.substring(eq + 1))
                .build());
        return;
      }
      unconfirmed.add(method + ": unreadable decree-enlisted trailer '" + enlisted + "'");
    } else if (!status.isOk()) {
      unconfirmed.add(method + " ended with " + status.getCode() + " and named no participant");
    }
    // OK without the trailer: a service that is not a Decree participant, or one that enlisted
    // itself at the coordinator before its work (an older runtime); nothing to name.
  }

  /**
   * The commit or rollback begins: from now on no call joins.
   *
   * @return the calls still running
   */
  synchronized int close() {
    closing = true;
    return running;
  }

  /** The commit is not going ahead after all (calls still running): calls may join again. */
  synchronized void reopen() {
    closing = false;
  }

  synchronized List<ParticipantRef> named() {
    return List.copyOf(named.values());
  }

  /** Calls that may have started work the client cannot name: if any, it must not commit. */
  synchronized List<String> unconfirmed() {
    return List.copyOf(unconfirmed);
  }
}
