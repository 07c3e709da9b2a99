package io.decree.core.sim;

import io.decree.core.Decision;
import io.decree.core.Outcome;
import io.decree.core.TxId;
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

  /** Agreement and stable vote, checked when a resource applies an outcome. */
  void onApplied(String participant, TxId tx, Decision decision) {
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
      if (got == null) {
        violation("termination: " + b.participant + " still in doubt about " + b.txId);
      } else if (loggedDecision.containsKey(b.txId) && got != loggedDecision.get(b.txId)) {
        violation("agreement: " + b.participant + " applied " + got + " for " + b.txId);
      }
    }
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
