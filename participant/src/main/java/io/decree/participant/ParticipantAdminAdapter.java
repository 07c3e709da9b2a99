package io.decree.participant;

import io.decree.core.Decision;
import io.decree.core.TxId;
import io.decree.core.participant.BranchView;
import io.decree.core.participant.OperatorReply;
import io.decree.node.FaultSwitches;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.HeuristicDecision;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.ListBranchesResponse;
import io.decree.proto.v1.ParticipantAdminGrpc;
import io.decree.proto.v1.ResolveBranchRequest;
import io.decree.proto.v1.ResolveBranchResponse;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Inbound adapter for {@code ParticipantAdmin}: the branches and why any are blocked. */
final class ParticipantAdminAdapter extends ParticipantAdminGrpc.ParticipantAdminImplBase {
  private final ParticipantDriver driver;

  ParticipantAdminAdapter(ParticipantDriver driver) {
    this.driver = driver;
  }

  @Override
  public void listBranches(
      ListBranchesRequest request, StreamObserver<ListBranchesResponse> observer) {
    List<BranchView> views;
    try {
      views = driver.branches();
    } catch (ParticipantDriver.BusyException busy) {
      observer.onError(Status.UNAVAILABLE.withDescription(busy.getMessage()).asRuntimeException());
      return;
    }
    ListBranchesResponse.Builder response =
        ListBranchesResponse.newBuilder().setParticipant(driver.self().name());
    for (BranchView v : views) {
      if (request.getInDoubtOnly() && !v.state().inDoubt()) {
        continue;
      }
      response.addBranches(toProto(v));
    }
    observer.onNext(response.build());
    observer.onCompleted();
  }

  /** Longest operator reason accepted (it is stored in the WAL with the branch). */
  static final int REASON_MAX_CHARS = 1_000;

  @Override
  public void resolveBranch(
      ResolveBranchRequest request, StreamObserver<ResolveBranchResponse> observer) {
    TxId txId;
    Decision decision;
    try {
      txId = ProtoMapping.txId(request.getTxId());
      decision =
          switch (request.getOutcome()) {
            case COMMITTED -> Decision.COMMIT;
            case ABORTED -> Decision.ABORT;
            case OUTCOME_UNSPECIFIED, UNKNOWN, UNRECOGNIZED ->
                throw ProtoMapping.invalid("outcome must be COMMITTED or ABORTED");
          };
      if (request.getReason().isBlank()) {
        throw ProtoMapping.invalid("reason is required: say why the outcome is forced");
      }
      if (request.getReason().length() > REASON_MAX_CHARS) {
        throw ProtoMapping.invalid("reason is longer than " + REASON_MAX_CHARS + " characters");
      }
    } catch (StatusRuntimeException invalid) {
      observer.onError(invalid);
      return;
    }
    driver
        .resolve(txId, decision, request.getReason())
        .orTimeout(30, TimeUnit.SECONDS)
        .whenComplete(
            (resolution, error) -> {
              if (error != null) {
                Throwable cause = error.getCause() != null ? error.getCause() : error;
                String why =
                    cause instanceof java.util.concurrent.TimeoutException
                        ? "no answer within 30 s (the heuristic record may still become durable;"
                            + " check the branch)"
                        : cause.getMessage();
                observer.onError(Status.UNAVAILABLE.withDescription(why).asRuntimeException());
                return;
              }
              OperatorReply reply = resolution.reply();
              if (reply.kind() == OperatorReply.Kind.NOT_FOUND) {
                observer.onError(
                    Status.NOT_FOUND.withDescription(reply.message()).asRuntimeException());
                return;
              }
              ResolveBranchResponse.Builder response =
                  ResolveBranchResponse.newBuilder()
                      .setParticipant(driver.self().name())
                      .setMessage(reply.message())
                      .setResult(
                          switch (reply.kind()) {
                            case FORCED -> ResolveBranchResponse.Result.FORCED;
                            case ALREADY -> ResolveBranchResponse.Result.ALREADY;
                            case REFUSED, NOT_FOUND -> ResolveBranchResponse.Result.REFUSED;
                          });
              if (resolution.branch() != null) {
                response.setBranch(toProto(resolution.branch()));
              }
              observer.onNext(response.build());
              observer.onCompleted();
            });
  }

  static BranchStatus toProto(BranchView v) {
    BranchStatus.Builder b =
        BranchStatus.newBuilder()
            .setTxId(v.txId().toString())
            .setState(v.state().name())
            .setStateSinceUnixMillis(v.stateSinceMillis());
    if (v.heuristic() != null) {
      BranchView.Heuristic h = v.heuristic();
      HeuristicDecision.Builder hd =
          HeuristicDecision.newBuilder()
              .setOutcome(ProtoMapping.toProto(h.decision().outcome()))
              .setReason(h.reason())
              .setAtUnixMillis(h.atMillis())
              .setAlarm(h.alarm())
              .setNote(h.note());
      if (h.realDecision() != null) {
        hd.setRealDecision(ProtoMapping.toProto(h.realDecision().outcome()));
      }
      b.setHeuristic(hd);
    }
    if (v.vote() != null) {
      b.setVote(ProtoMapping.toProto(v.vote()));
    }
    v.peers().forEach(p -> b.addPeers(ProtoMapping.toProto(p)));
    if (v.blocking() != null && !FaultSwitches.PARTICIPANT_HIDE_BLOCKING) {
      b.setBlocking(ProtoMapping.toProto(v.blocking()));
    }
    return b.build();
  }
}
