package io.decree.proto.v1;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import com.google.protobuf.InvalidProtocolBufferException;
import io.grpc.MethodDescriptor;
import io.grpc.ServiceDescriptor;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class DecreeProtoTest {

  @Test
  void txOutcomeSurvivesTheWire() throws InvalidProtocolBufferException {
    TxOutcome sent =
        TxOutcome.newBuilder()
            .setTxId("tx-42")
            .setOutcome(Outcome.UNKNOWN)
            .setReason("coordinator quorum unreachable")
            .setState(TxState.DECIDING)
            .build();

    TxOutcome received = TxOutcome.parseFrom(sent.toByteArray());

    assertThat(received).isEqualTo(sent);
    assertThat(received.getTxId()).isEqualTo("tx-42");
    assertThat(received.getOutcome()).isEqualTo(Outcome.UNKNOWN);
    assertThat(received.getReason()).isEqualTo("coordinator quorum unreachable");
    assertThat(received.getState()).isEqualTo(TxState.DECIDING);
  }

  @Test
  void prepareRequestSurvivesTheWire() throws InvalidProtocolBufferException {
    PrepareRequest sent =
        PrepareRequest.newBuilder()
            .setTxId("tx-7")
            .addParticipants(
                ParticipantRef.newBuilder().setName("accounts-a").setAddress("10.0.0.1:7001"))
            .addParticipants(
                ParticipantRef.newBuilder().setName("accounts-b").setAddress("10.0.0.2:7001"))
            .addCoordinatorAddresses("10.0.0.9:7000")
            .build();

    PrepareRequest received = PrepareRequest.parseFrom(sent.toByteString());

    assertThat(received).isEqualTo(sent);
    assertThat(received.getTxId()).isEqualTo("tx-7");
    assertThat(received.getParticipantsList())
        .extracting(ParticipantRef::getName, ParticipantRef::getAddress)
        .containsExactly(
            tuple("accounts-a", "10.0.0.1:7001"), tuple("accounts-b", "10.0.0.2:7001"));
    assertThat(received.getCoordinatorAddressesList()).containsExactly("10.0.0.9:7000");
  }

  @Test
  void servicesNameTheExpectedMethods() {
    assertThat(methodNames(CoordinatorGrpc.getServiceDescriptor()))
        .containsExactlyInAnyOrder(
            "Begin", "Enlist", "Commit", "Rollback", "GetStatus", "Inquire", "Session");
    assertThat(methodNames(ParticipantGrpc.getServiceDescriptor()))
        .containsExactlyInAnyOrder(
            "Prepare", "Commit", "Abort", "CommitOnePhase", "QueryOutcome", "Exchange");
    assertThat(methodNames(ParticipantAdminGrpc.getServiceDescriptor()))
        .containsExactlyInAnyOrder("ListBranches", "ResolveBranch");
    assertThat(methodNames(CoordinatorAdminGrpc.getServiceDescriptor()))
        .containsExactlyInAnyOrder(
            "ListTransactions",
            "DescribeTransaction",
            "GetNodeStatus",
            "AddMember",
            "RemoveMember",
            "TakeSnapshot");
    assertThat(CoordinatorGrpc.getServiceDescriptor().getName()).isEqualTo("decree.v1.Coordinator");
    assertThat(ParticipantGrpc.getCommitMethod().getFullMethodName())
        .isEqualTo("decree.v1.Participant/Commit");
  }

  private static List<String> methodNames(ServiceDescriptor service) {
    return service.getMethods().stream()
        .map(MethodDescriptor::getBareMethodName)
        .collect(Collectors.toList());
  }
}
