package io.decree.coordinator.log;

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
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.zip.CRC32C;

/**
 * The decision log as the replicated state machine applies it: a pure, deterministic map from
 * transaction id to its decision (first one wins), END flag and one-phase delegation, plus the
 * forget horizon. Every replica applies the same records in the same order and so holds the same
 * state; nothing here reads a clock or does I/O.
 *
 * <p>Not thread-safe: its owner guards it (the cluster's state machine, the single node's {@link
 * WalDecisionLog}).
 */
public final class DecisionState {
  private static final int SNAPSHOT_MAGIC = 0x44435331; // "DCS1"
  private static final byte SNAPSHOT_VERSION = 1;

  /** What applying one record did. */
  public enum Kind {
    /** An END, one-phase or horizon record: applied (or a harmless no-op). */
    APPLIED,
    /** A decision record: {@code winner} is the decision that stands. */
    DECIDED,
    /** A decision for a transaction older than the horizon: refused, never re-decided. */
    FORGOTTEN
  }

  public record Result(Kind kind, DecisionRecord winner) {
    public static final Result APPLIED = new Result(Kind.APPLIED, null);
    public static final Result FORGOTTEN = new Result(Kind.FORGOTTEN, null);
  }

  private static final class Tx {
    DecisionRecord decision;
    OnePhaseRecord onePhase;
    boolean ended;
    long endedAtMillis;
  }

  /** Ordered by id, i.e. by creation time first: a horizon drops a prefix, not a full scan. */
  private final NavigableMap<TxId, Tx> txs = new TreeMap<>();

  private long horizonMillis;

  public Result apply(CoordinatorRecord record) {
    if (record instanceof DecisionRecord d) {
      Tx tx = txs.get(d.txId());
      if (tx != null && tx.decision != null) {
        return new Result(Kind.DECIDED, tx.decision); // the first decision stands
      }
      if (tx == null && forgotten(d.txId())) {
        // Ended and dropped long ago: its decision is unknown here, so a new one must not be
        // taken as the first. The core answers UNKNOWN(forgotten) and never asks this.
        return Result.FORGOTTEN;
      }
      if (tx == null) {
        tx = new Tx();
        txs.put(d.txId(), tx);
      }
      tx.decision = d;
      tx.onePhase = null; // the outcome is known now; the delegation no longer matters
      return new Result(Kind.DECIDED, d);
    } else if (record instanceof EndRecord e) {
      Tx tx = txs.get(e.txId());
      if (tx != null && tx.decision != null && !tx.ended) {
        tx.ended = true;
        tx.endedAtMillis = e.endedAtMillis();
      }
      return Result.APPLIED;
    } else if (record instanceof OnePhaseRecord o) {
      if (!txs.containsKey(o.txId()) && !forgotten(o.txId())) {
        Tx tx = new Tx();
        tx.onePhase = o;
        txs.put(o.txId(), tx);
      }
      return Result.APPLIED;
    } else if (record instanceof HorizonRecord h) {
      if (h.createdBeforeMillis() > horizonMillis) {
        horizonMillis = h.createdBeforeMillis();
        // Only ended transactions are forgotten. The core never moves the horizon past a live
        // one; if it ever did, keeping an un-ended decision is the safe side (phase 2 still
        // needs it).
        txs.headMap(TxId.firstCreatedAt(horizonMillis), false)
            .entrySet()
            .removeIf(entry -> entry.getValue().ended);
      }
      return Result.APPLIED;
    }
    throw new IllegalStateException("unknown record " + record);
  }

  private boolean forgotten(TxId txId) {
    return txId.createdAtMillis() < horizonMillis;
  }

  public DecisionStatus status(TxId txId) {
    Tx tx = txs.get(txId);
    if (tx == null) {
      DecisionStatus.State state =
          forgotten(txId) ? DecisionStatus.State.FORGOTTEN : DecisionStatus.State.NONE;
      return new DecisionStatus(txId, state, Optional.empty(), false, Optional.empty());
    }
    if (tx.decision != null) {
      return new DecisionStatus(
          txId, DecisionStatus.State.DECIDED, Optional.of(tx.decision), tx.ended, Optional.empty());
    }
    return new DecisionStatus(
        txId,
        DecisionStatus.State.ONE_PHASE_PENDING,
        Optional.empty(),
        false,
        Optional.of(tx.onePhase.participant()));
  }

  /**
   * The records that rebuild a coordinator core with this state, in the order {@code
   * CoordinatorCore.onRecover} expects: one decision per transaction, then the ENDs (in the order
   * they ended), then one-phase delegations still without an outcome, then the horizon.
   */
  public List<CoordinatorRecord> recoveryRecords() {
    List<CoordinatorRecord> records = new ArrayList<>(txs.size() * 2 + 1);
    List<EndRecord> ends = new ArrayList<>();
    List<OnePhaseRecord> onePhase = new ArrayList<>();
    for (Map.Entry<TxId, Tx> entry : txs.entrySet()) { // in id order: txs is sorted
      TxId id = entry.getKey();
      Tx tx = entry.getValue();
      if (tx.decision != null) {
        records.add(tx.decision);
        if (tx.ended) {
          ends.add(new EndRecord(id, tx.endedAtMillis));
        }
      } else {
        onePhase.add(tx.onePhase);
      }
    }
    ends.sort(Comparator.comparingLong(EndRecord::endedAtMillis));
    records.addAll(ends);
    records.addAll(onePhase);
    if (horizonMillis > 0) {
      records.add(new HorizonRecord(horizonMillis));
    }
    return records;
  }

  public int size() {
    return txs.size();
  }

  public long horizonMillis() {
    return horizonMillis;
  }

  // ---------------------------------------------------------------- snapshot format

  /**
   * The whole state as bytes: magic, version, horizon, the transactions, then a CRC32C of
   * everything before it. Ratis adds an MD5 file; the CRC keeps the format self-checking when the
   * file is copied by other means.
   */
  public byte[] toSnapshot() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(64 + txs.size() * 96);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeInt(SNAPSHOT_MAGIC);
      out.writeByte(SNAPSHOT_VERSION);
      out.writeLong(horizonMillis);
      out.writeInt(txs.size());
      for (Tx tx : txs.values()) {
        if (tx.decision != null) {
          out.writeByte(tx.ended ? 2 : 1);
          writeRecord(out, tx.decision);
          if (tx.ended) {
            out.writeLong(tx.endedAtMillis);
          }
        } else {
          out.writeByte(3);
          writeRecord(out, tx.onePhase);
        }
      }
      out.flush();
      CRC32C crc = new CRC32C();
      crc.update(bytes.toByteArray());
      out.writeInt((int) crc.getValue());
    } catch (IOException e) {
      throw new UncheckedIOException(e); // a byte array stream does not fail
    }
    return bytes.toByteArray();
  }

  /** Parses a snapshot written by {@link #toSnapshot}; anything else is refused loudly. */
  public static DecisionState fromSnapshot(byte[] snapshot) {
    if (snapshot.length < 4 + 1 + 8 + 4 + 4) {
      throw new IllegalStateException("decision snapshot truncated: " + snapshot.length + " bytes");
    }
    CRC32C crc = new CRC32C();
    crc.update(snapshot, 0, snapshot.length - 4);
    int stored =
        ((snapshot[snapshot.length - 4] & 0xff) << 24)
            | ((snapshot[snapshot.length - 3] & 0xff) << 16)
            | ((snapshot[snapshot.length - 2] & 0xff) << 8)
            | (snapshot[snapshot.length - 1] & 0xff);
    if (stored != (int) crc.getValue()) {
      throw new IllegalStateException("decision snapshot fails its checksum");
    }
    DecisionState state = new DecisionState();
    try (DataInputStream in =
        new DataInputStream(new ByteArrayInputStream(snapshot, 0, snapshot.length - 4))) {
      if (in.readInt() != SNAPSHOT_MAGIC) {
        throw new IllegalStateException("not a decision snapshot");
      }
      byte version = in.readByte();
      if (version != SNAPSHOT_VERSION) {
        throw new IllegalStateException("decision snapshot format " + version + " unsupported");
      }
      state.horizonMillis = in.readLong();
      int count = in.readInt();
      if (count < 0) {
        throw new IllegalStateException("decision snapshot has a negative count");
      }
      for (int i = 0; i < count; i++) {
        byte kind = in.readByte();
        Tx tx = new Tx();
        TxId id;
        switch (kind) {
          case 1, 2 -> {
            tx.decision = (DecisionRecord) readRecord(in, CoordinatorRecordCodec.DECISION);
            id = tx.decision.txId();
            if (kind == 2) {
              tx.ended = true;
              tx.endedAtMillis = in.readLong();
            }
          }
          case 3 -> {
            tx.onePhase = (OnePhaseRecord) readRecord(in, CoordinatorRecordCodec.ONE_PHASE);
            id = tx.onePhase.txId();
          }
          default -> throw new IllegalStateException("decision snapshot: bad entry kind " + kind);
        }
        if (state.txs.put(id, tx) != null) {
          throw new IllegalStateException("decision snapshot holds " + id + " twice");
        }
      }
      if (in.available() != 0) {
        throw new IllegalStateException("decision snapshot has trailing bytes");
      }
    } catch (IOException e) {
      throw new IllegalStateException("decision snapshot unreadable", e);
    }
    return state;
  }

  private static void writeRecord(DataOutputStream out, CoordinatorRecord record)
      throws IOException {
    byte[] payload = CoordinatorRecordCodec.encode(record);
    out.writeInt(payload.length);
    out.write(payload);
  }

  private static CoordinatorRecord readRecord(DataInputStream in, int type) throws IOException {
    int length = in.readInt();
    if (length < 0 || length > in.available()) {
      throw new IllegalStateException("decision snapshot: bad record length " + length);
    }
    byte[] payload = in.readNBytes(length);
    return CoordinatorRecordCodec.decode(type, payload);
  }
}
