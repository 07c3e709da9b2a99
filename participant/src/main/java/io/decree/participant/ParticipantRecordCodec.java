package io.decree.participant;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.participant.ParticipantCheckpoint;
import io.decree.core.participant.ParticipantRecord;
import io.decree.core.participant.ParticipantRecord.CompletedRecord;
import io.decree.core.participant.ParticipantRecord.DecisionRecord;
import io.decree.core.participant.ParticipantRecord.HeuristicRecord;
import io.decree.core.participant.ParticipantRecord.PreparedRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The participant's WAL records as bytes. The WAL frame already carries a CRC and the record type
 * ({@link #type}); the payload starts with a format version so a later release can still read old
 * logs. Layout (DataOutputStream, big-endian): {@code version:u8, txId(created:i64, issuer:i32,
 * seq:i64)}, then per type:
 *
 * <ul>
 *   <li>PREPARED: {@code count:i32, (name:utf, address:utf)*, branchData:(len:i32, bytes),
 *       preparedAt:i64}
 *   <li>DECISION: {@code decision:u8, onePhase:bool, branchData, decidedAt:i64}
 *   <li>COMPLETED: {@code decision:u8}
 *   <li>HEURISTIC: {@code decision:u8, reason:utf, decidedAt:i64} (an operator's forced outcome)
 * </ul>
 *
 * <p>A checkpoint's snapshot ({@link #encodeCheckpoint}): {@code version:u8, horizon:i64,
 * count:i32, (type:u8, length:i32, payload)*}, each payload as above.
 *
 * <p>A payload that does not decode passed the WAL's CRC, so this process (or a newer release)
 * wrote it: that is a bug or a downgrade, and {@link #decode} stops recovery with {@link
 * IllegalStateException} rather than guessing a branch's state.
 */
final class ParticipantRecordCodec {
  static final int TYPE_PREPARED = 1;
  static final int TYPE_DECISION = 2;
  static final int TYPE_COMPLETED = 3;
  static final int TYPE_HEURISTIC = 4;

  private static final int VERSION = 1;

  /** Limits that a well-formed record never exceeds; larger lengths mean a corrupt payload. */
  private static final int PARTICIPANTS_MAX = 100_000;

  private static final int BRANCH_DATA_MAX = 64 << 20;

  private ParticipantRecordCodec() {}

  static int type(ParticipantRecord record) {
    if (record instanceof PreparedRecord) {
      return TYPE_PREPARED;
    } else if (record instanceof DecisionRecord) {
      return TYPE_DECISION;
    } else if (record instanceof CompletedRecord) {
      return TYPE_COMPLETED;
    } else if (record instanceof HeuristicRecord) {
      return TYPE_HEURISTIC;
    }
    throw new IllegalArgumentException("unknown participant record " + record);
  }

  static byte[] encode(ParticipantRecord record) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      writeTxId(out, record.txId());
      if (record instanceof PreparedRecord p) {
        out.writeInt(p.participants().size());
        for (ParticipantRef ref : p.participants()) {
          out.writeUTF(ref.name());
          out.writeUTF(ref.address());
        }
        writeBytes(out, p.branchData());
        out.writeLong(p.preparedAtMillis());
      } else if (record instanceof DecisionRecord d) {
        out.writeByte(decisionCode(d.decision()));
        out.writeBoolean(d.onePhase());
        writeBytes(out, d.branchData());
        out.writeLong(d.decidedAtMillis());
      } else if (record instanceof CompletedRecord c) {
        out.writeByte(decisionCode(c.decision()));
      } else if (record instanceof HeuristicRecord h) {
        out.writeByte(decisionCode(h.decision()));
        out.writeUTF(h.reason());
        out.writeLong(h.decidedAtMillis());
      }
    } catch (IOException e) {
      throw new UncheckedIOException("in-memory stream cannot fail", e);
    }
    return bytes.toByteArray();
  }

  static ParticipantRecord decode(int type, byte[] payload) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalStateException(
            "participant record version " + version + " is not supported (this build reads 1)");
      }
      TxId txId = new TxId(in.readLong(), in.readInt(), in.readLong());
      ParticipantRecord record =
          switch (type) {
            case TYPE_PREPARED -> {
              int count = in.readInt();
              if (count < 0 || count > PARTICIPANTS_MAX) {
                throw new IllegalStateException("participant count " + count + " out of range");
              }
              List<ParticipantRef> refs = new ArrayList<>(count);
              for (int i = 0; i < count; i++) {
                refs.add(new ParticipantRef(in.readUTF(), in.readUTF()));
              }
              yield new PreparedRecord(txId, refs, readBytes(in), in.readLong());
            }
            case TYPE_DECISION ->
                new DecisionRecord(
                    txId,
                    decision(in.readUnsignedByte()),
                    in.readBoolean(),
                    readBytes(in),
                    in.readLong());
            case TYPE_COMPLETED -> new CompletedRecord(txId, decision(in.readUnsignedByte()));
            case TYPE_HEURISTIC ->
                new HeuristicRecord(
                    txId, decision(in.readUnsignedByte()), in.readUTF(), in.readLong());
            default -> throw new IllegalStateException("unknown participant record type " + type);
          };
      if (in.available() != 0) {
        throw new IllegalStateException(in.available() + " trailing bytes after " + record);
      }
      return record;
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException(
          "participant record of type " + type + " does not decode: " + e.getMessage(), e);
    }
  }

  static byte[] encodeCheckpoint(ParticipantCheckpoint checkpoint) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + 128 * checkpoint.records().size());
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeLong(checkpoint.forgottenBeforeMillis());
      out.writeInt(checkpoint.records().size());
      for (ParticipantRecord record : checkpoint.records()) {
        out.writeByte(type(record));
        writeBytes(out, encode(record));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static ParticipantCheckpoint decodeCheckpoint(byte[] snapshot) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(snapshot))) {
      int version = in.readUnsignedByte();
      if (version != VERSION) {
        throw new IllegalStateException(
            "participant checkpoint version "
                + version
                + " is not supported (this build reads "
                + VERSION
                + ")");
      }
      long horizon = in.readLong();
      int count = in.readInt();
      if (count < 0) {
        throw new IllegalStateException("record count " + count + " out of range");
      }
      List<ParticipantRecord> records = new ArrayList<>(Math.min(count, 1 << 20));
      for (int i = 0; i < count; i++) {
        int type = in.readUnsignedByte();
        records.add(decode(type, readBytes(in)));
      }
      if (in.available() != 0) {
        throw new IllegalStateException(in.available() + " trailing bytes");
      }
      return new ParticipantCheckpoint(horizon, records);
    } catch (IOException e) {
      throw new IllegalStateException(
          "participant checkpoint does not decode: " + e.getMessage(), e);
    }
  }

  private static void writeTxId(DataOutputStream out, TxId txId) throws IOException {
    out.writeLong(txId.createdAtMillis());
    out.writeInt(txId.issuer());
    out.writeLong(txId.sequence());
  }

  private static void writeBytes(DataOutputStream out, byte[] data) throws IOException {
    out.writeInt(data.length);
    out.write(data);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > BRANCH_DATA_MAX || length > in.available()) {
      throw new IllegalStateException("branch data length " + length + " out of range");
    }
    return in.readNBytes(length);
  }

  private static int decisionCode(Decision decision) {
    return switch (decision) {
      case COMMIT -> 1;
      case ABORT -> 2;
    };
  }

  private static Decision decision(int code) {
    return switch (code) {
      case 1 -> Decision.COMMIT;
      case 2 -> Decision.ABORT;
      default -> throw new IllegalStateException("unknown decision code " + code);
    };
  }
}
