package io.decree.coordinator.grpc;

import io.decree.coordinator.CoordinatorNode;
import io.decree.coordinator.log.ClusterView;
import io.decree.coordinator.log.ReplicatedDecisionLog;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.ParticipantView;
import io.decree.core.coordinator.TxView;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.AddMemberRequest;
import io.decree.proto.v1.ClusterMemberInfo;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.ListTransactionsRequest;
import io.decree.proto.v1.ListTransactionsResponse;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.NodeStatusRequest;
import io.decree.proto.v1.ParticipantProgress;
import io.decree.proto.v1.PartyContact;
import io.decree.proto.v1.RemoveMemberRequest;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TakeSnapshotRequest;
import io.decree.proto.v1.TakeSnapshotResponse;
import io.decree.proto.v1.TransactionDetail;
import io.decree.proto.v1.TransactionEvent;
import io.decree.proto.v1.TransactionSummary;
import io.decree.proto.v1.TxState;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.EnumSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/** Inbound adapter for operators: lists and explains the transactions this node holds. */
public final class CoordinatorAdminService extends CoordinatorAdminGrpc.CoordinatorAdminImplBase {
  private static final int LIST_LIMIT_MAX = 10_000;

  private final CoordinatorNode node;

  /**
   * Runs membership changes and snapshots, which block for up to a minute: one at a time (they
   * would queue at the Raft leader anyway), on a thread of their own that ends when idle. Not the
   * common pool, which has a single thread on a 2-core machine.
   */
  private final ExecutorService clusterOperations =
      new ThreadPoolExecutor(
          0,
          1,
          30,
          TimeUnit.SECONDS,
          new LinkedBlockingQueue<>(),
          r -> {
            Thread t = new Thread(r, "coordinator-cluster-admin");
            t.setDaemon(true);
            return t;
          });

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
                if (core == null) {
                  observer.onError(notServing());
                  return;
                }
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
                if (core == null) {
                  observer.onError(notServing());
                  return;
                }
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
    Replies.guarded(observer, () -> node.read((core, now) -> answer(observer, nodeStatus(core))));
  }

  @Override
  public void addMember(AddMemberRequest request, StreamObserver<NodeStatus> observer) {
    membership(
        observer,
        "add member " + request.getMemberId(),
        log -> log.addMember(request.getMemberId(), request.getRaftAddress()));
  }

  @Override
  public void removeMember(RemoveMemberRequest request, StreamObserver<NodeStatus> observer) {
    membership(
        observer,
        "remove member " + request.getMemberId(),
        log -> log.removeMember(request.getMemberId()));
  }

  @Override
  public void takeSnapshot(
      TakeSnapshotRequest request, StreamObserver<TakeSnapshotResponse> observer) {
    offTransport(
        observer,
        "snapshot",
        log ->
            answer(
                observer,
                TakeSnapshotResponse.newBuilder().setSnapshotIndex(log.takeSnapshot()).build()));
  }

  /** A membership change, answered with this node's status once it is committed. */
  private void membership(
      StreamObserver<NodeStatus> observer, String what, Consumer<ReplicatedDecisionLog> change) {
    offTransport(
        observer,
        what,
        log -> {
          change.accept(log);
          node.read((core, now) -> answer(observer, nodeStatus(core)));
        });
  }

  /**
   * Runs a blocking cluster operation (it waits for a commit or forces a file) off the transport
   * thread; a refused argument is INVALID_ARGUMENT, anything else UNAVAILABLE with the reason.
   */
  private void offTransport(
      StreamObserver<?> observer, String what, Consumer<ReplicatedDecisionLog> operation) {
    ReplicatedDecisionLog log = clusterOrFail(observer);
    if (log == null) {
      return;
    }
    clusterOperations.execute(
        () -> {
          try {
            operation.accept(log);
          } catch (IllegalArgumentException e) {
            observer.onError(
                Status.INVALID_ARGUMENT
                    .withDescription(what + " refused: " + e.getMessage())
                    .asRuntimeException());
          } catch (RuntimeException e) {
            observer.onError(
                Status.UNAVAILABLE
                    .withDescription(what + " not confirmed: " + e.getMessage())
                    .asRuntimeException());
          }
        });
  }

  private ReplicatedDecisionLog clusterOrFail(StreamObserver<?> observer) {
    var cluster = node.cluster();
    if (cluster.isEmpty()) {
      observer.onError(
          Status.FAILED_PRECONDITION
              .withDescription(
                  "this coordinator runs as a single node (no --cluster): it has no members to"
                      + " change or replicated log to snapshot")
              .asRuntimeException());
      return null;
    }
    return cluster.get();
  }

  private NodeStatus nodeStatus(CoordinatorCore core) {
    NodeStatus.Builder status =
        NodeStatus.newBuilder()
            .setAddress(node.address())
            .setMode(node.cluster().isPresent() ? "cluster" : "single-node")
            .setRole(core != null ? "LEADER" : "FOLLOWER")
            .setStartedUnixMillis(node.startedAtMillis())
            .setRecordsReplayed(node.recordsReplayed());
    if (core != null) {
      status
          .setTransactionsHeld(core.heldCount())
          .setInFlight(core.undecidedCount())
          .setHeuristicAlarms(core.alarmCount())
          .setForgottenBeforeUnixMillis(core.forgottenBeforeMillis());
    } else {
      status.setNotServingReason(node.notLeader());
    }
    node.cluster()
        .ifPresent(
            log -> {
              ClusterView view = log.view();
              Map<String, String> addresses = node.memberAddresses();
              status
                  .setMemberId(view.memberId())
                  .setTerm(view.currentTerm())
                  .setLastAppliedIndex(view.lastAppliedIndex())
                  .setLogStartIndex(view.logStartIndex())
                  .setLastLogTerm(view.lastLogTerm())
                  .setLastLogIndex(view.lastLogIndex());
              view.leaderId()
                  .ifPresent(
                      l -> status.setLeaderId(l).setLeaderAddress(addresses.getOrDefault(l, "")));
              for (ClusterView.Member m : view.members()) {
                status.addMembers(
                    ClusterMemberInfo.newBuilder()
                        .setMemberId(m.id())
                        .setRaftAddress(m.raftAddress())
                        .setCoordinatorAddress(addresses.getOrDefault(m.id(), "")));
              }
            });
    return status.build();
  }

  private StatusRuntimeException notServing() {
    return Status.UNAVAILABLE.withDescription(node.notLeader()).asRuntimeException();
  }

  private static <T> void answer(StreamObserver<T> observer, T value) {
    observer.onNext(value);
    observer.onCompleted();
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
