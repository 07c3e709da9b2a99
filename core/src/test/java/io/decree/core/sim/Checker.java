package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Outcome;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorCore;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The ground truth of a simulation and the invariants of PROTOCOL.md, checked at the moment each
 * relevant event happens (so after every step) and once more after the faults heal.
 */
final class Checker {
  private record Branch(String participant, TxId txId) {}

  private final Map<TxId, Set<String>> enlisted = new HashMap<>();
  private final Map<TxId, Decision> loggedDecision = new HashMap<>();
  private final Set<Branch> durableYes = new HashSet<>();
  private final Set<Branch> readOnly = new HashSet<>();
  private final Set<Branch> loggedOnePhaseCommit = new HashSet<>();
  private final Map<TxId, Map<String, Decision>> applied = new HashMap<>();
  private final Map<TxId, Outcome> toldClient = new HashMap<>();

  /** Branches an operator forced, with the forced outcome, and what those applied. */
  private final Map<Branch, Decision> forced = new HashMap<>();

  private final Map<Branch, Decision> heuristicApplied = new HashMap<>();
  private final List<String> violations = new ArrayList<>();
  long definiteAnswers;
  long unknownAnswers;

  void violation(String text) {
    violations.add(text);
  }

  List<String> violations() {
    return violations;
  }

  void onEnlisted(TxId txId, String participant) {
    enlisted.computeIfAbsent(txId, t -> new HashSet<>()).add(participant);
  }

  void onReadOnly(String participant, TxId txId) {
    readOnly.add(new Branch(participant, txId));
  }

  /** Validity, checked when the coordinator appends a COMMIT. */
  void onCoordinatorProposes(DecisionRecord record) {
    if (record.decision() != Decision.COMMIT) {
      return;
    }
    for (String p : enlisted.getOrDefault(record.txId(), Set.of())) {
      Branch b = new Branch(p, record.txId());
      if (!durableYes.contains(b) && !readOnly.contains(b) && !loggedOnePhaseCommit.contains(b)) {
        violation(
            "validity: COMMIT appended for " + record.txId() + " without a durable YES from " + p);
      }
    }
  }

  /** One decision and durability of told answers, checked when a decision becomes durable. */
  void onCoordinatorDurable(DecisionRecord record) {
    TxId tx = record.txId();
    Decision before = loggedDecision.putIfAbsent(tx, record.decision());
    if (before != null && before != record.decision()) {
      violation(
          "one decision: the log holds " + before + " and " + record.decision() + " for " + tx);
    }
    if (record.decision() == Decision.COMMIT) {
      if (toldClient.get(tx) == Outcome.ABORTED) {
        violation("durability: client was told ABORTED for " + tx + ", now COMMIT is logged");
      }
      applied
          .getOrDefault(tx, Map.of())
          .forEach(
              (p, d) -> {
                if (d == Decision.ABORT && durableYes.contains(new Branch(p, tx))) {
                  violation(
                      "agreement: " + p + " aborted prepared " + tx + ", COMMIT logged later");
                }
              });
    }
  }

  void onParticipantVoteDurable(String participant, TxId txId) {
    durableYes.add(new Branch(participant, txId));
  }

  void onParticipantOnePhaseCommitDurable(String participant, TxId txId) {
    loggedOnePhaseCommit.add(new Branch(participant, txId));
  }

  /** An operator forced this branch; only such a branch may disagree with the decision. */
  void onForced(String participant, TxId tx, Decision decision) {
    forced.put(new Branch(participant, tx), decision);
  }

  /** A participant (not a forced one) applied {@code decision} for {@code tx}. */
  boolean someoneApplied(TxId tx, Decision decision) {
    return applied.getOrDefault(tx, Map.of()).containsValue(decision);
  }

  /** Agreement and stable vote, checked when a resource applies an outcome. */
  void onApplied(String participant, TxId tx, Decision decision) {
    Branch forcedBranch = new Branch(participant, tx);
    if (forced.get(forcedBranch) == decision) {
      // The operator's outcome: exempt from agreement and stable vote, judged by its alarm.
      Decision before = heuristicApplied.put(forcedBranch, decision);
      if (before != null && before != decision) {
        violation("heuristic: " + participant + " applied " + before + " then " + decision);
      }
      return;
    }
    // A forced outcome that never became durable (lost in a crash): the branch is ordinary again.
    forced.remove(forcedBranch);
    Map<String, Decision> byParticipant = applied.computeIfAbsent(tx, t -> new HashMap<>());
    Decision mine = byParticipant.get(participant);
    if (mine != null && mine != decision) {
      violation(
          "agreement: " + participant + " applied " + mine + " then " + decision + " for " + tx);
    }
    byParticipant.forEach(
        (other, d) -> {
          if (d != decision) {
            violation(
                "agreement: "
                    + tx
                    + " "
                    + d
                    + " at "
                    + other
                    + " but "
                    + decision
                    + " at "
                    + participant);
          }
        });
    byParticipant.put(participant, decision);
    Branch b = new Branch(participant, tx);
    if (decision == Decision.COMMIT) {
      if (loggedDecision.get(tx) != Decision.COMMIT && !loggedOnePhaseCommit.contains(b)) {
        violation(
            "stable vote: " + participant + " committed " + tx + " before COMMIT was durable");
      }
      if (toldClient.get(tx) == Outcome.ABORTED) {
        violation(
            "durability: client was told ABORTED for " + tx + " but " + participant + " committed");
      }
    } else if (durableYes.contains(b) && loggedDecision.get(tx) == Decision.COMMIT) {
      violation("stable vote: " + participant + " aborted " + tx + " although COMMIT is logged");
    }
  }

  /** Durability of every definite answer given to a client. */
  void onClientAnswer(TxId tx, Outcome outcome, String reason) {
    if (!outcome.definite()) {
      unknownAnswers++;
      return;
    }
    definiteAnswers++;
    Outcome before = toldClient.putIfAbsent(tx, outcome);
    if (before != null && before != outcome) {
      violation("durability: client told " + before + " then " + outcome + " for " + tx);
    }
    boolean committedSomewhere =
        loggedDecision.get(tx) == Decision.COMMIT
            || loggedOnePhaseCommit.stream().anyMatch(b -> b.txId.equals(tx));
    if (outcome == Outcome.COMMITTED && !committedSomewhere) {
      violation("durability: client told COMMITTED for " + tx + " before COMMIT was durable");
    }
    if (outcome == Outcome.ABORTED && committedSomewhere) {
      violation("durability: client told ABORTED for " + tx + " but COMMIT is durable");
    }
  }

  /** After healing: every durable YES learned its outcome and every COMMIT reached every YES. */
  void checkTermination() {
    for (Branch b : durableYes) {
      Decision got = applied.getOrDefault(b.txId, Map.of()).get(b.participant);
      if (got == null && heuristicApplied.containsKey(b)) {
        continue; // forced: judged by checkHeuristics
      }
      if (got == null) {
        violation("termination: " + b.participant + " still in doubt about " + b.txId);
      } else if (loggedDecision.containsKey(b.txId) && got != loggedDecision.get(b.txId)) {
        violation("agreement: " + b.participant + " applied " + got + " for " + b.txId);
      }
    }
  }

  /**
   * After healing: every forced branch that disagrees with the logged decision reports the alarm at
   * its participant, and no branch reports an alarm without such a disagreement.
   */
  void checkHeuristics(List<SimParticipant> participants) {
    Map<String, SimParticipant> byName = new HashMap<>();
    participants.forEach(p -> byName.put(p.ref.name(), p));
    heuristicApplied.forEach(
        (b, appliedHere) -> {
          Decision logged = loggedDecision.get(b.txId);
          var view = byName.get(b.participant).core().describe(b.txId);
          if (view.isEmpty() || view.get().heuristic() == null) {
            violation("heuristic: " + b.participant + " lost the record of forced " + b.txId);
            return;
          }
          var h = view.get().heuristic();
          if (logged != null && logged != appliedHere && !h.alarm() && h.note().isEmpty()) {
            violation(
                "heuristic: silent mismatch at "
                    + b.participant
                    + " for "
                    + b.txId
                    + ": forced "
                    + appliedHere
                    + ", decision "
                    + logged);
          }
        });
    for (SimParticipant p : participants) {
      for (var v : p.core().list()) {
        if (v.heuristic() != null && v.heuristic().alarm()) {
          Decision logged = loggedDecision.get(v.txId());
          if (logged == null || logged == v.heuristic().decision()) {
            violation("heuristic: false alarm at " + p.ref.name() + " for " + v.txId());
          }
        }
      }
    }
  }

  /**
   * When the coordinator hears a participant report an outcome (an ack, or a heuristic branch's
   * inquiry) that differs from its durable decision, it must show the alarm at once.
   */
  void checkCoordinatorAlarm(
      CoordinatorCore core, TxId tx, String participant, Decision reported, long nowMillis) {
    var view = core.describe(tx, nowMillis);
    if (view.isEmpty() || view.get().decisionDurableMillis() == 0) {
      return;
    }
    Decision decision = view.get().decision();
    boolean alarmed =
        view.get().participants().stream()
            .anyMatch(p -> p.participant().name().equals(participant) && p.alarm());
    if (reported != decision && !alarmed) {
      violation(
          "heuristic: coordinator heard "
              + participant
              + " report "
              + reported
              + " for "
              + tx
              + " (decision "
              + decision
              + ") and shows no alarm");
    }
    if (reported != decision && !forced.containsKey(new Branch(participant, tx))) {
      violation("agreement: " + participant + " reports " + reported + " for " + tx + " unforced");
    }
  }

  /** Branches whose forced outcome was applied. */
  int heuristicBranches() {
    return heuristicApplied.size();
  }

  /** Forced branches whose outcome differs from the logged decision (each must be alarmed). */
  int heuristicMismatches() {
    int count = 0;
    for (var e : heuristicApplied.entrySet()) {
      Decision logged = loggedDecision.get(e.getKey().txId);
      if (logged != null && logged != e.getValue()) {
        count++;
      }
    }
    return count;
  }

  void checkFinalAnswer(TxId tx, io.decree.core.Answer answer) {
    Outcome told = toldClient.get(tx);
    if (!answer.outcome().definite()) {
      if (!answer.reason().startsWith("forgotten")) {
        violation("termination: final status of " + tx + " is still UNKNOWN: " + answer.reason());
      }
    } else if (told != null && told != answer.outcome()) {
      violation(
          "durability: client told " + told + " for " + tx + ", final status " + answer.outcome());
    }
  }
}
