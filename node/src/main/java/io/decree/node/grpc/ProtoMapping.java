package io.decree.node.grpc;

import io.decree.core.Answer;
import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.Vote;
import io.decree.core.coordinator.TxPhase;
import io.decree.proto.v1.BlockingStatus;
import io.decree.proto.v1.PartyContact;
import io.decree.proto.v1.ProtocolError;
import io.decree.proto.v1.TxOutcome;
import io.decree.proto.v1.TxState;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.List;

/**
 * Translates between the decree.v1 wire types and the core's types. Validation happens here:
 * malformed input becomes INVALID_ARGUMENT with a message naming the field, before the core sees
 * it.
 */
public final class ProtoMapping {
  private ProtoMapping() {}

  public static TxId txId(String text) {
    try {
      return TxId.parse(text);
    } catch (IllegalArgumentException e) {
      throw invalid("tx_id: " + e.getMessage());
    }
  }

  public static ParticipantRef participant(io.decree.proto.v1.ParticipantRef ref) {
    try {
      return new ParticipantRef(ref.getName(), ref.getAddress());
    } catch (IllegalArgumentException e) {
      throw invalid("participant: " + e.getMessage());
    }
  }

  public static io.decree.proto.v1.ParticipantRef toProto(ParticipantRef ref) {
    return io.decree.proto.v1.ParticipantRef.newBuilder()
        .setName(ref.name())
        .setAddress(ref.address())
        .build();
  }

  public static List<ParticipantRef> participants(List<io.decree.proto.v1.ParticipantRef> refs) {
    List<ParticipantRef> out = new ArrayList<>(refs.size());
    refs.forEach(r -> out.add(participant(r)));
    return out;
  }

  public static io.decree.proto.v1.Outcome toProto(Outcome outcome) {
    return switch (outcome) {
      case COMMITTED -> io.decree.proto.v1.Outcome.COMMITTED;
      case ABORTED -> io.decree.proto.v1.Outcome.ABORTED;
      case UNKNOWN -> io.decree.proto.v1.Outcome.UNKNOWN;
    };
  }

  /** An unset or unrecognised wire outcome is UNKNOWN: never read doubt as a definite answer. */
  public static Outcome outcome(io.decree.proto.v1.Outcome outcome) {
    return switch (outcome) {
      case COMMITTED -> Outcome.COMMITTED;
      case ABORTED -> Outcome.ABORTED;
      case UNKNOWN, OUTCOME_UNSPECIFIED, UNRECOGNIZED -> Outcome.UNKNOWN;
    };
  }

  public static io.decree.proto.v1.Vote toProto(Vote vote) {
    return switch (vote) {
      case YES -> io.decree.proto.v1.Vote.YES;
      case NO -> io.decree.proto.v1.Vote.NO;
      case READ_ONLY -> io.decree.proto.v1.Vote.READ_ONLY;
    };
  }

  /** An unset or unrecognised vote counts as NO: a YES must be explicit. */
  public static Vote vote(io.decree.proto.v1.Vote vote) {
    return switch (vote) {
      case YES -> Vote.YES;
      case READ_ONLY -> Vote.READ_ONLY;
      case NO, VOTE_UNSPECIFIED, UNRECOGNIZED -> Vote.NO;
    };
  }

  public static Decision decision(Outcome outcome) {
    return switch (outcome) {
      case COMMITTED -> Decision.COMMIT;
      case ABORTED -> Decision.ABORT;
      case UNKNOWN -> throw new IllegalArgumentException("UNKNOWN is not a decision");
    };
  }

  /** A null phase (not known, e.g. when the cluster could not be read) is TX_STATE_UNSPECIFIED. */
  public static TxState toProto(TxPhase phase) {
    if (phase == null) {
      return TxState.TX_STATE_UNSPECIFIED;
    }
    return switch (phase) {
      case ACTIVE -> TxState.ACTIVE;
      case PREPARING -> TxState.PREPARING;
      case DELEGATING, ONE_PHASE, DECIDING -> TxState.DECIDING;
      case COMMITTING -> TxState.COMMITTING;
      case ABORTING -> TxState.ABORTING;
      case ENDED -> TxState.ENDED;
    };
  }

  public static TxOutcome toProto(Answer answer, TxState state) {
    return TxOutcome.newBuilder()
        .setTxId(answer.txId().toString())
        .setOutcome(toProto(answer.outcome()))
        .setReason(answer.reason())
        .setState(state)
        .build();
  }

  public static BlockingStatus toProto(Blocking blocking) {
    BlockingStatus.Builder b =
        BlockingStatus.newBuilder()
            .setTxId(blocking.txId().toString())
            .setState(blocking.state())
            .setSinceUnixMillis(blocking.sinceMillis())
            .setWaitingFor(blocking.waitingFor())
            .setRetries(blocking.retries())
            .setNextRetryUnixMillis(blocking.nextRetryMillis());
    for (Blocking.Contact c : blocking.contacts()) {
      b.addContacts(
          PartyContact.newBuilder()
              .setParty(c.party())
              .setLastSuccessUnixMillis(c.lastSuccessMillis())
              .setLastAttemptUnixMillis(c.lastAttemptMillis())
              .setLastError(c.lastError()));
    }
    return b.build();
  }

  /** A refused request as a stream reply item: the gRPC code and its description. */
  public static ProtocolError error(Status status) {
    return ProtocolError.newBuilder()
        .setCode(status.getCode().value())
        .setDescription(status.getDescription() == null ? "" : status.getDescription())
        .build();
  }

  public static StatusRuntimeException invalid(String message) {
    return Status.INVALID_ARGUMENT.withDescription(message).asRuntimeException();
  }
}
