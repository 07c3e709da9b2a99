package io.decree.participant;

import io.decree.core.participant.BranchView;
import io.decree.node.grpc.ProtoMapping;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.ListBranchesResponse;
import io.decree.proto.v1.ParticipantAdminGrpc;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.List;

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

  static BranchStatus toProto(BranchView v) {
    BranchStatus.Builder b =
        BranchStatus.newBuilder().setTxId(v.txId().toString()).setState(v.state().name());
    if (v.vote() != null) {
      b.setVote(ProtoMapping.toProto(v.vote()));
    }
    v.peers().forEach(p -> b.addPeers(ProtoMapping.toProto(p)));
    if (v.blocking() != null) {
      b.setBlocking(ProtoMapping.toProto(v.blocking()));
    }
    return b.build();
  }
}
