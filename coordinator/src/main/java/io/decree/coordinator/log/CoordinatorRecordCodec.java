package io.decree.coordinator.log;

import io.decree.core.Decision;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.EndRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * The decision log's record encoding. The WAL frames each payload with its type, length and CRC;
 * this class only maps records to payloads. Each payload starts with a format version so the format
 * can grow.
 */
public final class CoordinatorRecordCodec {
  public static final int DECISION = 1;
  public static final int END = 2;
  public static final int ONE_PHASE = 3;
  public static final int HORIZON = 4;
  private static final byte VERSION = 1;

  private CoordinatorRecordCodec() {}

  public static int type(CoordinatorRecord record) {
    if (record instanceof DecisionRecord) {
      return DECISION;
    } else if (record instanceof EndRecord) {
      return END;
    } else if (record instanceof OnePhaseRecord) {
      return ONE_PHASE;
    } else if (record instanceof HorizonRecord) {
      return HORIZON;
    }
    throw new IllegalArgumentException("unknown record " + record);
  }

  public static byte[] encode(CoordinatorRecord record) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      if (record instanceof DecisionRecord d) {
        writeTxId(out, d.txId());
        out.writeByte(d.decision() == Decision.COMMIT ? 1 : 2);
        out.writeLong(d.decidedAtMillis());
        out.writeShort(d.participants().size());
        for (ParticipantRef p : d.participants()) {
          out.writeUTF(p.name());
          out.writeUTF(p.address());
        }
      } else if (record instanceof EndRecord e) {
        writeTxId(out, e.txId());
        out.writeLong(e.endedAtMillis());
      } else if (record instanceof OnePhaseRecord o) {
        writeTxId(out, o.txId());
        out.writeUTF(o.participant().name());
        out.writeUTF(o.participant().address());
      } else if (record instanceof HorizonRecord h) {
        out.writeLong(h.createdBeforeMillis());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array stream does not fail
    }
    return bytes.toByteArray();
  }

  /**
   * Decodes a payload the WAL has already checked (CRC). A payload that still does not parse was
   * written by a different, incompatible build: refuse to go on rather than misread a decision.
   */
  public static CoordinatorRecord decode(int type, byte[] payload) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(payload))) {
      byte version = in.readByte();
      if (version != VERSION) {
        throw new IllegalStateException("decision log record format " + version + " unsupported");
      }
      return switch (type) {
        case DECISION -> {
          TxId tx = readTxId(in);
          byte d = in.readByte();
          if (d != 1 && d != 2) {
            throw new IllegalStateException("bad decision byte " + d);
          }
          long at = in.readLong();
          int n = in.readUnsignedShort();
          List<ParticipantRef> refs = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            refs.add(new ParticipantRef(in.readUTF(), in.readUTF()));
          }
          yield new DecisionRecord(tx, d == 1 ? Decision.COMMIT : Decision.ABORT, refs, at);
        }
        case END -> new EndRecord(readTxId(in), in.readLong());
        case ONE_PHASE ->
            new OnePhaseRecord(readTxId(in), new ParticipantRef(in.readUTF(), in.readUTF()));
        case HORIZON -> new HorizonRecord(in.readLong());
        default -> throw new IllegalStateException("unknown decision log record type " + type);
      };
    } catch (IOException | IllegalArgumentException e) {
      throw new IllegalStateException("undecodable decision log record of type " + type, e);
    }
  }

  private static void writeTxId(DataOutputStream out, TxId tx) throws IOException {
    out.writeLong(tx.createdAtMillis());
    out.writeInt(tx.issuer());
    out.writeLong(tx.sequence());
  }

  private static TxId readTxId(DataInputStream in) throws IOException {
    return new TxId(in.readLong(), in.readInt(), in.readLong());
  }
}
