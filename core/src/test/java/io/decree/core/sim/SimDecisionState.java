package io.decree.core.sim;

import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.EndRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The replicated decision log's applied state, as the cluster module's {@code DecisionState}
 * defines it: per transaction the first decision (later ones return it), an END flag, a one-phase
 * delegation without an outcome yet; plus the forget horizon. A decision for an id below the
 * horizon that is no longer held is refused. Every member applies the same committed entries in the
 * same order, so each member's state is this fold over a prefix of the log.
 */
final class SimDecisionState {
  /** What applying a record did: {@code winner} for a decision; {@code refused} below horizon. */
  record Applied(DecisionRecord winner, boolean refused) {}

  private static final Applied APPLIED = new Applied(null, false);

  private static final class Tx {
    DecisionRecord decision;
    OnePhaseRecord onePhase;
    boolean ended;
    long endedAtMillis;
  }

  private final Map<TxId, Tx> txs = new HashMap<>();
  private long horizonMillis;

  Applied apply(CoordinatorRecord record) {
    if (record instanceof DecisionRecord d) {
      Tx tx = txs.get(d.txId());
      if (tx != null && tx.decision != null) {
        return new Applied(tx.decision, false); // the first decision stands
      }
      if (tx == null && d.txId().createdAtMillis() < horizonMillis) {
        return new Applied(null, true);
      }
      if (tx == null) {
        tx = new Tx();
        txs.put(d.txId(), tx);
      }
      tx.decision = d;
      tx.onePhase = null;
      return new Applied(d, false);
    } else if (record instanceof EndRecord e) {
      Tx tx = txs.get(e.txId());
      if (tx != null && tx.decision != null && !tx.ended) {
        tx.ended = true;
        tx.endedAtMillis = e.endedAtMillis();
      }
    } else if (record instanceof OnePhaseRecord o) {
      if (!txs.containsKey(o.txId()) && o.txId().createdAtMillis() >= horizonMillis) {
        Tx tx = new Tx();
        tx.onePhase = o;
        txs.put(o.txId(), tx);
      }
    } else if (record instanceof HorizonRecord h) {
      if (h.createdBeforeMillis() > horizonMillis) {
        horizonMillis = h.createdBeforeMillis();
        txs.entrySet()
            .removeIf(e -> e.getKey().createdAtMillis() < horizonMillis && e.getValue().ended);
      }
    }
    return APPLIED;
  }

  /** The decision that stands for {@code txId}, or null. */
  DecisionRecord decision(TxId txId) {
    Tx tx = txs.get(txId);
    return tx == null ? null : tx.decision;
  }

  /**
   * The records that rebuild a core, in the order {@code CoordinatorCore.onRecover} takes (as the
   * cluster's {@code recover()} returns them): decisions by id, ENDs in the order they ended,
   * one-phase delegations without an outcome, then the horizon.
   */
  List<CoordinatorRecord> recoveryRecords() {
    List<TxId> ids = new ArrayList<>(txs.keySet());
    ids.sort(Comparator.naturalOrder());
    List<CoordinatorRecord> records = new ArrayList<>();
    List<EndRecord> ends = new ArrayList<>();
    List<OnePhaseRecord> onePhase = new ArrayList<>();
    for (TxId id : ids) {
      Tx tx = txs.get(id);
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
}
