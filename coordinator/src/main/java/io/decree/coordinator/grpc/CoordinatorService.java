package io.decree.coordinator.grpc;

import io.decree.coordinator.CoordinatorNode;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.node.FaultSwitches;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.BeginRequest;
import io.decree.proto.v1.BeginResponse;
import io.decree.proto.v1.CommitRequest;
import io.decree.proto.v1.CoordinatorGrpc;
import io.decree.proto.v1.EnlistRequest;
import io.decree.proto.v1.EnlistResponse;
import io.decree.proto.v1.InquiryRequest;
import io.decree.proto.v1.RollbackRequest;
import io.decree.proto.v1.SessionReply;
import io.decree.proto.v1.SessionRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TxOutcome;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Inbound adapter for the Coordinator service: validates and decodes each request, hands it to the
 * node's core, and encodes the core's reply. Every call is idempotent by id.
 */
public final class CoordinatorService extends CoordinatorGrpc.CoordinatorImplBase {
  /** Used when a client asks for no particular timeout. */
  static final long DEFAULT_TIMEOUT_MILLIS = 60_000;

  static final int KEY_LENGTH_MAX = 256;

  private final CoordinatorNode node;

  /** Open session streams, to drain at stop. */
  private final Set<ClientSession> sessions = ConcurrentHashMap.newKeySet();

  private volatile boolean draining;

  public CoordinatorService(CoordinatorNode node) {
    this.node = node;
  }

  @Override
  public void begin(BeginRequest request, StreamObserver<BeginResponse> observer) {
    Replies.guarded(
        observer,
        () -> {
          if (request.getIdempotencyKey().length() > KEY_LENGTH_MAX) {
            throw ProtoMapping.invalid(
                "idempotency_key longer than " + KEY_LENGTH_MAX + " characters");
          }
          if (request.getTimeoutMillis() < 0) {
            throw ProtoMapping.invalid("timeout_millis must be >= 0 (0: default)");
          }
          long timeout =
              request.getTimeoutMillis() == 0 ? DEFAULT_TIMEOUT_MILLIS : request.getTimeoutMillis();
          node.call(
              (core, callId, now) ->
                  core.onBegin(
                      callId,
                      request.getIdempotencyKey(),
                      timeout,
                      request.getParticipantsNamedAtCommit(),
                      now),
              Replies.to(
                  observer,
                  ClientReply.Began.class,
                  b ->
                      BeginResponse.newBuilder()
                          .setTxId(b.txId().toString())
                          .setDeadlineUnixMillis(b.deadlineMillis())
                          .build()));
        });
  }

  @Override
  public void enlist(EnlistRequest request, StreamObserver<EnlistResponse> observer) {
    Replies.guarded(
        observer,
        () -> {
          TxId txId = ProtoMapping.txId(request.getTxId());
          if (!request.hasParticipant() || request.getParticipant().getAddress().isBlank()) {
            throw ProtoMapping.invalid("participant with a name and an address is required");
          }
          ParticipantRef participant = ProtoMapping.participant(request.getParticipant());
          node.call(
              (core, callId, now) -> core.onEnlist(callId, txId, participant, now),
              Replies.to(
                  observer,
                  ClientReply.Enlisted.class,
                  e ->
                      EnlistResponse.newBuilder()
                          .setDeadlineUnixMillis(e.deadlineMillis())
                          .build()));
        });
  }

  @Override
  public void commit(CommitRequest request, StreamObserver<TxOutcome> observer) {
    Replies.guarded(
        observer,
        () -> {
          TxId txId = ProtoMapping.txId(request.getTxId());
          List<ParticipantRef> named = named(request.getParticipantsList());
          node.call(
              (core, callId, now) ->
                  core.onCommit(
                      callId,
                      txId,
                      named,
                      request.getNamesParticipants(),
                      request.getWaitForPhaseTwo(),
                      now),
              FaultSwitches.COORDINATOR_MISREPORT_COMMITS
                  ? misreported(observer, txId)
                  : outcome(observer));
        });
  }

  @Override
  public void rollback(RollbackRequest request, StreamObserver<TxOutcome> observer) {
    Replies.guarded(
        observer,
        () -> {
          TxId txId = ProtoMapping.txId(request.getTxId());
          List<ParticipantRef> named = named(request.getParticipantsList());
          node.call(
              (core, callId, now) -> core.onRollback(callId, txId, named, now), outcome(observer));
        });
  }

  @Override
  public StreamObserver<SessionRequest> session(StreamObserver<SessionReply> replies) {
    ClientSession session =
        new ClientSession(this, (ServerCallStreamObserver<SessionReply>) replies, sessions::remove);
    sessions.add(session);
    if (draining) {
      session.drain(); // raced a drain: this one ends at once too
    }
    return session;
  }

  /**
   * The node is stopping: every session stream refuses new requests (UNAVAILABLE, so clients move
   * on to another coordinator) and ends once what it already took is answered.
   */
  public void drainSessions() {
    draining = true;
    sessions.forEach(ClientSession::drain);
  }

  /** Participants named by a commit or rollback, each with a name and an address. */
  private static List<ParticipantRef> named(List<io.decree.proto.v1.ParticipantRef> refs) {
    List<ParticipantRef> named = new ArrayList<>(refs.size());
    for (io.decree.proto.v1.ParticipantRef ref : refs) {
      if (ref.getName().isBlank() || ref.getAddress().isBlank()) {
        throw ProtoMapping.invalid(
            "every named participant needs a name and an address, got '"
                + ref.getName()
                + "' at '"
                + ref.getAddress()
                + "'");
      }
      named.add(ProtoMapping.participant(ref));
    }
    return named;
  }

  @Override
  public void getStatus(StatusRequest request, StreamObserver<TxOutcome> observer) {
    Replies.guarded(
        observer,
        () -> {
          TxId txId = ProtoMapping.txId(request.getTxId());
          node.status(txId, outcome(observer));
        });
  }

  @Override
  public void inquire(InquiryRequest request, StreamObserver<TxOutcome> observer) {
    Replies.guarded(
        observer,
        () -> {
          TxId txId = ProtoMapping.txId(request.getTxId());
          if (!request.hasParticipant()) {
            throw ProtoMapping.invalid("participant is required");
          }
          ParticipantRef from = ProtoMapping.participant(request.getParticipant());
          io.decree.core.Decision heuristic =
              switch (request.getHeuristicOutcome()) {
                case COMMITTED -> io.decree.core.Decision.COMMIT;
                case ABORTED -> io.decree.core.Decision.ABORT;
                case OUTCOME_UNSPECIFIED, UNKNOWN, UNRECOGNIZED -> null;
              };
          node.inquire(
              txId,
              from,
              heuristic,
              reply -> {
                observer.onNext(
                    TxOutcome.newBuilder()
                        .setTxId(reply.txId().toString())
                        .setOutcome(ProtoMapping.toProto(reply.outcome()))
                        .setReason(reply.reason())
                        .build());
                observer.onCompleted();
              },
              notLeader ->
                  observer.onError(
                      io.grpc.Status.UNAVAILABLE.withDescription(notLeader).asRuntimeException()));
        });
  }

  /** TEST ONLY: answers ABORTED for a commit of an even sequence number that COMMITTED. */
  private static java.util.function.Consumer<ClientReply> misreported(
      StreamObserver<TxOutcome> observer, TxId txId) {
    return Replies.to(
        observer,
        ClientReply.Answered.class,
        a -> {
          TxOutcome truth = ProtoMapping.toProto(a.answer(), ProtoMapping.toProto(a.phase()));
          return truth.getOutcome() == io.decree.proto.v1.Outcome.COMMITTED
                  && txId.sequence() % 2 == 0
              ? truth.toBuilder()
                  .setOutcome(io.decree.proto.v1.Outcome.ABORTED)
                  .setReason("test fault: a commit misreported")
                  .build()
              : truth;
        });
  }

  private static java.util.function.Consumer<ClientReply> outcome(
      StreamObserver<TxOutcome> observer) {
    return Replies.to(
        observer,
        ClientReply.Answered.class,
        a -> ProtoMapping.toProto(a.answer(), ProtoMapping.toProto(a.phase())));
  }
}
