package io.decree.coordinator.grpc;

import io.decree.coordinator.CoordinatorNode;
import io.decree.core.TxId;
import io.decree.core.coordinator.ParticipantView;
import io.decree.core.coordinator.TxView;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.ListTransactionsRequest;
import io.decree.proto.v1.ListTransactionsResponse;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.NodeStatusRequest;
import io.decree.proto.v1.ParticipantProgress;
import io.decree.proto.v1.PartyContact;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TransactionDetail;
import io.decree.proto.v1.TransactionEvent;
import io.decree.proto.v1.TransactionSummary;
import io.decree.proto.v1.TxState;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.Set;

/** Inbound adapter for operators: lists and explains the transactions this node holds. */
public final class CoordinatorAdminService extends CoordinatorAdminGrpc.CoordinatorAdminImplBase {
  private static final int LIST_LIMIT_MAX = 10_000;

  private final CoordinatorNode node;

  public CoordinatorAdminService(CoordinatorNode node) {
    this.node = node;
  }

  @Override
  public void listTransactions(
      ListTransactionsRequest request, StreamObserver<ListTransactionsResponse> observer) {
    Replies.guarded(
        observer,
        () -> {
          Set<TxState> states = EnumSet.noneOf(TxState.class);
          request.getStatesList().forEach(states::add);
          int limit =
              request.getLimit() <= 0
                  ? LIST_LIMIT_MAX
                  : Math.min(request.getLimit(), LIST_LIMIT_MAX);
          node.read(
              (core, now) -> {
                ListTransactionsResponse.Builder response = ListTransactionsResponse.newBuilder();
                for (TxView tx : core.list(now)) {
                  if (response.getTransactionsCount() >= limit) {
                    break;
                  }
                  TxState state = ProtoMapping.toProto(tx.phase());
                  boolean stateOk = states.isEmpty() || states.contains(state);
                  boolean oldEnough =
                      now - tx.txId().createdAtMillis() >= request.getOlderThanMillis();
                  boolean participantOk =
                      request.getParticipant().isEmpty()
                          || tx.participants().stream()
                              .anyMatch(
                                  p -> p.participant().name().equals(request.getParticipant()));
                  if (stateOk && oldEnough && participantOk) {
                    response.addTransactions(summary(tx));
                  }
                }
                observer.onNext(response.build());
                observer.onCompleted();
              });
        });
  }

  @Override
  public void describeTransaction(
      StatusRequest request, StreamObserver<TransactionDetail> observer) {
    Replies.guarded(
        observer,
        () -> {
          TxId txId = ProtoMapping.txId(request.getTxId());
          node.read(
              (core, now) -> {
                var view = core.describe(txId, now);
                if (view.isEmpty()) {
                  observer.onError(
                      Status.NOT_FOUND
                          .withDescription(
                              "coordinator holds no transaction "
                                  + txId
                                  + " (never begun here, lost before a decision, or forgotten)")
                          .asRuntimeException());
                  return;
                }
                observer.onNext(detail(view.get()));
                observer.onCompleted();
              });
        });
  }

  @Override
  public void getNodeStatus(NodeStatusRequest request, StreamObserver<NodeStatus> observer) {
    Replies.guarded(
        observer,
        () ->
            node.read(
                (core, now) -> {
                  observer.onNext(
                      NodeStatus.newBuilder()
                          .setAddress(node.address())
                          .setMode("single-node")
                          .setRole("LEADER")
                          .setStartedUnixMillis(node.startedAtMillis())
                          .setRecordsReplayed(node.recordsReplayed())
                          .setTransactionsHeld(core.heldCount())
                          .setInFlight(core.undecidedCount())
                          .setHeuristicAlarms(core.alarmCount())
                          .setForgottenBeforeUnixMillis(core.forgottenBeforeMillis())
                          .build());
                  observer.onCompleted();
                }));
  }

  private static TransactionSummary summary(TxView tx) {
    TransactionSummary.Builder s =
        TransactionSummary.newBuilder()
            .setTxId(tx.txId().toString())
            .setState(ProtoMapping.toProto(tx.phase()))
            .setCreatedUnixMillis(tx.txId().createdAtMillis())
            .setStateSinceUnixMillis(tx.phaseSinceMillis())
            .setHeuristicAlarm(tx.alarm());
    tx.participants().forEach(p -> s.addParticipants(p.participant().name()));
    if (tx.blocking() != null) {
      s.setBlocking(ProtoMapping.toProto(tx.blocking()));
    }
    return s.build();
  }

  private static TransactionDetail detail(TxView tx) {
    TransactionDetail.Builder d =
        TransactionDetail.newBuilder()
            .setSummary(summary(tx))
            .setDecisionDurableUnixMillis(tx.decisionDurableMillis());
    if (tx.decision() != null && tx.decisionDurableMillis() > 0) {
      d.setDecision(ProtoMapping.toProto(tx.decision().outcome()));
    }
    for (ParticipantView p : tx.participants()) {
      ParticipantProgress.Builder progress =
          ParticipantProgress.newBuilder()
              .setParticipant(ProtoMapping.toProto(p.participant()))
              .setAcknowledged(p.acknowledged())
              .setContact(
                  PartyContact.newBuilder()
                      .setParty(p.contact().party())
                      .setLastSuccessUnixMillis(p.contact().lastSuccessMillis())
                      .setLastAttemptUnixMillis(p.contact().lastAttemptMillis())
                      .setLastError(p.contact().lastError()));
      if (p.vote() != null) {
        progress.setVote(ProtoMapping.toProto(p.vote()));
      }
      if (p.heuristic() != null) {
        progress.setHeuristicOutcome(ProtoMapping.toProto(p.heuristic().outcome()));
        progress.setAlarm(p.alarm());
      }
      d.addParticipants(progress);
    }
    tx.timeline()
        .forEach(
            e ->
                d.addTimeline(
                    TransactionEvent.newBuilder()
                        .setAtUnixMillis(e.atMillis())
                        .setEvent(e.event())));
    return d.build();
  }
}
