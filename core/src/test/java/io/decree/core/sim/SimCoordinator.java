package io.decree.core.sim;

import io.decree.core.Message;
import io.decree.core.ParticipantRef;
import io.decree.core.Send;
import io.decree.core.TxId;
import io.decree.core.coordinator.ClientReply;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorEffects;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * The coordinator's driver in the simulation: its core, its decision log on a simulated disk with
 * the first-decision-wins rule and group commit, ticks, crash and restart. The single-coordinator
 * mode; {@link SimCluster} is the replicated one.
 */
final class SimCoordinator implements CoordinatorSide {
  static final String NAME = "coordinator";

  private final Simulation sim;
  private final SimDisk<CoordinatorRecord> disk = new SimDisk<>();
  private final Map<TxId, DecisionRecord> firstDecision = new HashMap<>();
  private final SimGroupCommit<CoordinatorRecord> log;
  private CoordinatorCore core;
  private int incarnation;

  SimCoordinator(Simulation sim) {
    this.sim = sim;
    this.log = new SimGroupCommit<>(sim, disk, this::afterSync, this::flush);
  }

  boolean up() {
    return core != null;
  }

  @Override
  public void start() {
    incarnation++;
    core = new CoordinatorCore(sim.options().coordinator(), incarnation);
    firstDecision.clear();
    for (CoordinatorRecord r : disk.synced()) {
      if (r instanceof DecisionRecord d) {
        firstDecision.putIfAbsent(d.txId(), d);
      }
    }
    core.onRecover(List.copyOf(disk.synced()), sim.now());
    flush();
    scheduleTick(incarnation);
  }

  void crash() {
    core = null;
    log.crash();
  }

  @Override
  public void heal() {
    if (!up()) {
      start();
    }
  }

  @Override
  public void crash(long downMillis) {
    if (up()) {
      crash();
      sim.scheduler()
          .after(
              downMillis,
              () -> {
                if (!up()) {
                  start();
                }
              });
    }
  }

  @Override
  public String partitionTarget() {
    return NAME;
  }

  @Override
  public void call(
      String caller, Consumer<CoordinatorCore> input, long callId, Consumer<ClientReply> replyTo) {
    sim.network().send(caller, NAME, input, in -> onCall(caller, in, callId, replyTo));
  }

  @Override
  public void message(String from, Message message) {
    sim.trace(from + " -> coordinator: " + message);
    sim.network()
        .send(
            from,
            NAME,
            message,
            m -> {
              sim.trace("coordinator <- " + from + ": " + m);
              onMessage(m);
            });
  }

  @Override
  public void suspect(String caller) {}

  @Override
  public boolean askStatus(long callId, TxId txId) {
    if (!up()) {
      return false;
    }
    core.onStatus(callId, txId, sim.now());
    flush();
    return true;
  }

  /** A client or participant call arrived; {@code replyTo} receives the reply over the network. */
  private void onCall(
      String caller, Consumer<CoordinatorCore> input, long callId, Consumer<ClientReply> replyTo) {
    if (!up()) {
      return;
    }
    sim.registerCall(callId, caller, replyTo);
    input.accept(core);
    flush();
  }

  void onMessage(Message message) {
    if (!up()) {
      return;
    }
    core.onMessage(message, sim.now());
    flush();
    // A participant reporting a forced outcome: a mismatch with the decision must be an alarm here
    // as soon as the coordinator heard it.
    if (message instanceof Message.Ack a) {
      sim.checker().checkCoordinatorAlarm(core, a.txId(), a.from().name(), a.decision(), sim.now());
    } else if (message instanceof Message.Inquiry i && i.heuristic() != null) {
      sim.checker()
          .checkCoordinatorAlarm(core, i.txId(), i.from().name(), i.heuristic(), sim.now());
    }
  }

  @Override
  public io.decree.core.Decision syncedDecision(TxId txId) {
    for (CoordinatorRecord r : disk.synced()) {
      if (r instanceof DecisionRecord d && d.txId().equals(txId)) {
        return d.decision();
      }
    }
    return null;
  }

  private void scheduleTick(int forIncarnation) {
    sim.scheduler()
        .after(
            10,
            () -> {
              if (up() && incarnation == forIncarnation) {
                core.onTick(sim.now());
                flush();
                scheduleTick(forIncarnation);
              }
            });
  }

  void flush() {
    CoordinatorEffects effects = core.drain();
    for (CoordinatorRecord record : effects.appends()) {
      append(record);
    }
    for (Send send : effects.sends()) {
      ParticipantRef to = (ParticipantRef) send.to();
      sim.sendToParticipant(NAME, to.name(), send.message());
    }
    for (CoordinatorEffects.Reply reply : effects.replies()) {
      sim.reply(NAME, reply.callId(), reply.body());
    }
  }

  private void append(CoordinatorRecord record) {
    int forIncarnation = incarnation;
    if (record instanceof DecisionRecord d) {
      DecisionRecord winner = firstDecision.putIfAbsent(d.txId(), d);
      Consumer<Boolean> onResult =
          ok -> {
            if (incarnation != forIncarnation || core == null) {
              return;
            }
            if (ok) {
              core.onDecisionDurable(winner == null ? d : winner, sim.now());
            } else {
              core.onDecisionAppendFailed(d.txId(), "simulated sync failure", sim.now());
            }
          };
      if (winner == null) {
        sim.checker().onCoordinatorProposes(d);
        log.append(d, onResult);
      } else {
        log.awaitSync(onResult); // first wins: report the decision that stands
      }
    } else if (record instanceof OnePhaseRecord o) {
      log.append(
          o,
          ok -> {
            if (incarnation != forIncarnation || core == null) {
              return;
            }
            if (ok) {
              core.onOnePhaseDurable(o.txId(), sim.now());
            } else {
              core.onOnePhaseAppendFailed(o.txId(), "simulated sync failure", sim.now());
            }
          });
    } else if (!record.awaitsDurability()) {
      log.appendLazily(record); // as the node's WAL does
    } else {
      log.append(record, ok -> {});
    }
  }

  private void afterSync(boolean ok, List<CoordinatorRecord> covered) {
    if (!ok) {
      // Whatever a failed sync left on disk is what a restart will read back.
      firstDecision.clear();
      for (CoordinatorRecord r : disk.synced()) {
        if (r instanceof DecisionRecord d) {
          firstDecision.putIfAbsent(d.txId(), d);
        }
      }
    }
    for (CoordinatorRecord r : disk.synced()) {
      if (r instanceof DecisionRecord d && covered.contains(d)) {
        sim.checker().onCoordinatorDurable(d);
      }
    }
  }
}
