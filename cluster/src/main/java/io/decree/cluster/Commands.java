package io.decree.cluster;

import io.decree.coordinator.log.CoordinatorRecordCodec;
import io.decree.coordinator.log.DecisionState;
import io.decree.coordinator.log.DecisionStatus;
import io.decree.core.ParticipantRef;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * The bytes that travel through Ratis: a batch of records (one Raft entry) and its reply, a status
 * read and its answer. Records inside reuse {@link CoordinatorRecordCodec}, the single-node log's
 * encoding.
 *
 * <p>A batch carries the leader term its sender was leading in. The state machine applies it only
 * if the Raft entry has that same term: a request from a core whose leadership has ended (and that
 * Ratis' client retried to whoever leads now) is refused instead of slipping decisions past the new
 * leader's core, which was rebuilt without them.
 */
final class Commands {
  private static final byte VERSION = 1;
  private static final byte READ_STATUS = 1;

  /** Hard limits, checked before a batch enters the log and again when it is applied. */
  static final int BATCH_RECORDS_MAX = 65_535;

  static final int RECORD_BYTES_MAX = 64 * 1024;

  private Commands() {}

  /** One record already encoded by {@link CoordinatorRecordCodec}. */
  record Encoded(int type, byte[] payload) {
    static Encoded of(CoordinatorRecord record) {
      return new Encoded(
          CoordinatorRecordCodec.type(record), CoordinatorRecordCodec.encode(record));
    }

    int size() {
      return 5 + payload.length;
    }
  }

  record Batch(long term, List<CoordinatorRecord> records) {}

  /** The state machine's answer to a batch. */
  enum BatchStatus {
    APPLIED,
    /** The entry's term differs from the sender's: nothing in it was applied. */
    STALE_TERM
  }

  record BatchReply(BatchStatus status, long entryTerm, List<DecisionState.Result> results) {}

  // ---------------------------------------------------------------- batches

  static byte[] encodeBatch(long term, List<Encoded> records) {
    int size = 1 + 8 + 4;
    for (Encoded r : records) {
      size += r.size();
    }
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(size);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeLong(term);
      out.writeInt(records.size());
      for (Encoded r : records) {
        out.writeByte(r.type());
        out.writeInt(r.payload().length);
        out.write(r.payload());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /**
   * @throws IllegalArgumentException if the bytes are not a well-formed batch
   */
  static Batch decodeBatch(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      checkVersion(in.readByte());
      long term = in.readLong();
      int count = in.readInt();
      if (count < 1 || count > BATCH_RECORDS_MAX) {
        throw new IllegalArgumentException("batch of " + count + " records");
      }
      List<CoordinatorRecord> records = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        int type = in.readUnsignedByte();
        int length = in.readInt();
        if (length < 0 || length > RECORD_BYTES_MAX || length > in.available()) {
          throw new IllegalArgumentException("record of " + length + " bytes");
        }
        records.add(CoordinatorRecordCodec.decode(type, in.readNBytes(length)));
      }
      if (in.available() != 0) {
        throw new IllegalArgumentException("trailing bytes after the batch");
      }
      return new Batch(term, records);
    } catch (IOException | IllegalStateException e) {
      throw new IllegalArgumentException("malformed decision batch: " + e.getMessage(), e);
    }
  }

  static byte[] encodeBatchReply(BatchReply reply) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(16 + reply.results().size() * 64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeByte(reply.status().ordinal());
      out.writeLong(reply.entryTerm());
      out.writeInt(reply.results().size());
      for (DecisionState.Result r : reply.results()) {
        out.writeByte(r.kind().ordinal());
        if (r.kind() == DecisionState.Kind.DECIDED) {
          writeBytes(out, CoordinatorRecordCodec.encode(r.winner()));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static BatchReply decodeBatchReply(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      checkVersion(in.readByte());
      BatchStatus status = BatchStatus.values()[in.readUnsignedByte()];
      long entryTerm = in.readLong();
      int count = in.readInt();
      if (count < 0 || count > BATCH_RECORDS_MAX) {
        throw new IllegalArgumentException("reply of " + count + " results");
      }
      List<DecisionState.Result> results = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        DecisionState.Kind kind = DecisionState.Kind.values()[in.readUnsignedByte()];
        results.add(
            switch (kind) {
              case APPLIED -> DecisionState.Result.APPLIED;
              case FORGOTTEN -> DecisionState.Result.FORGOTTEN;
              case DECIDED ->
                  new DecisionState.Result(
                      kind,
                      (DecisionRecord)
                          CoordinatorRecordCodec.decode(
                              CoordinatorRecordCodec.DECISION, readBytes(in)));
            });
      }
      return new BatchReply(status, entryTerm, results);
    } catch (IOException | IllegalStateException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("malformed batch reply: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- status reads

  static byte[] encodeRead(TxId txId) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(32);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeByte(READ_STATUS);
      out.writeLong(txId.createdAtMillis());
      out.writeInt(txId.issuer());
      out.writeLong(txId.sequence());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static TxId decodeRead(byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      checkVersion(in.readByte());
      byte op = in.readByte();
      if (op != READ_STATUS) {
        throw new IllegalArgumentException("unknown query " + op);
      }
      TxId txId = new TxId(in.readLong(), in.readInt(), in.readLong());
      if (in.available() != 0) {
        throw new IllegalArgumentException("trailing bytes after the query");
      }
      return txId;
    } catch (IOException e) {
      throw new IllegalArgumentException("malformed query: " + e.getMessage(), e);
    }
  }

  static byte[] encodeStatus(DecisionStatus status) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(VERSION);
      out.writeByte(status.state().ordinal());
      out.writeBoolean(status.ended());
      if (status.decision().isPresent()) {
        writeBytes(out, CoordinatorRecordCodec.encode(status.decision().get()));
      }
      if (status.onePhaseParticipant().isPresent()) {
        out.writeUTF(status.onePhaseParticipant().get().name());
        out.writeUTF(status.onePhaseParticipant().get().address());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  static DecisionStatus decodeStatus(TxId txId, byte[] bytes) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(bytes))) {
      checkVersion(in.readByte());
      DecisionStatus.State state = DecisionStatus.State.values()[in.readUnsignedByte()];
      boolean ended = in.readBoolean();
      Optional<DecisionRecord> decision = Optional.empty();
      Optional<ParticipantRef> participant = Optional.empty();
      if (state == DecisionStatus.State.DECIDED) {
        decision =
            Optional.of(
                (DecisionRecord)
                    CoordinatorRecordCodec.decode(CoordinatorRecordCodec.DECISION, readBytes(in)));
      } else if (state == DecisionStatus.State.ONE_PHASE_PENDING) {
        participant = Optional.of(new ParticipantRef(in.readUTF(), in.readUTF()));
      }
      return new DecisionStatus(txId, state, decision, ended, participant);
    } catch (IOException | IllegalStateException | ArrayIndexOutOfBoundsException e) {
      throw new IllegalArgumentException("malformed status reply: " + e.getMessage(), e);
    }
  }

  // ---------------------------------------------------------------- helpers

  private static void checkVersion(byte version) {
    if (version != VERSION) {
      throw new IllegalArgumentException("command format " + version + " unsupported");
    }
  }

  private static void writeBytes(DataOutputStream out, byte[] payload) throws IOException {
    out.writeInt(payload.length);
    out.write(payload);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > RECORD_BYTES_MAX || length > in.available()) {
      throw new IllegalArgumentException("field of " + length + " bytes");
    }
    return in.readNBytes(length);
  }
}
