package io.decree.core.participant;

import io.decree.core.Blocking;
import io.decree.core.Decision;
import io.decree.core.Message;
import io.decree.core.Outcome;
import io.decree.core.ParticipantRef;
import io.decree.core.Peer;
import io.decree.core.ProtocolViolation;
import io.decree.core.Send;
import io.decree.core.TxId;
import io.decree.core.Vote;
import io.decree.core.participant.ParticipantRecord.CompletedRecord;
import io.decree.core.participant.ParticipantRecord.DecisionRecord;
import io.decree.core.participant.ParticipantRecord.HeuristicRecord;
import io.decree.core.participant.ParticipantRecord.PreparedRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A participant's side of two-phase commit as a pure state machine. Inputs: protocol messages, the
 * resource's results, log-append results, time. Outputs ({@link #drain()}): records to append and
 * sync, messages to send, resource calls.
 *
 * <p>Rules it keeps (PROTOCOL.md): a YES is sent only after its record is durable; a prepared
 * branch never decides on its own (stable vote), it asks the coordinator and then its peers; a
 * decision is recorded durably before it is applied and acknowledged; a branch that has not voted
 * YES may be aborted by anyone, and is, when a peer asks about it.
 */
public final class ParticipantCore {
  private final ParticipantRef self;
  private final ParticipantConfig config;

  /** Every branch held: open ones and finished ones kept for late or repeated messages. */
  private final Map<TxId, Branch> branches = new HashMap<>();

  /** Branches not finished: the only ones a tick looks at, and the ones the limit counts. */
  private final Map<TxId, Branch> open = new LinkedHashMap<>();

  /** Finished branches in the order they finished, so forgetting pops from the head. */
  private final ArrayDeque<Branch> finished = new ArrayDeque<>();

  /**
   * Heuristic branches that do not know the real decision yet: they ask the coordinator (telling it
   * the forced outcome) until it answers, so that a mismatch becomes an alarm on both sides.
   */
  private final Map<TxId, Branch> unconfirmedHeuristics = new LinkedHashMap<>();

  private ParticipantEffects effects = new ParticipantEffects();

  /**
   * Branches created before this were finished and forgotten; a question about one answers UNKNOWN
   * instead of presuming ABORT.
   */
  private long forgottenBeforeMillis;

  /**
   * When this core was rebuilt from the log. A transaction older than that may have had work here,
   * and even a READ_ONLY vote, which leaves no record: having none proves nothing about it.
   */
  private long recoveredAtMillis;

  public ParticipantCore(ParticipantRef self, ParticipantConfig config) {
    this.self = self;
    this.config = config;
  }

  public ParticipantRef self() {
    return self;
  }

  public ParticipantEffects drain() {
    return effects.drain();
  }

  /** Appends a record for {@code b}, and keeps it with the branch for checkpoints. */
  private void log(Branch b, ParticipantRecord record) {
    b.records.add(record);
    effects.append(record);
  }

  /**
   * What a checkpoint must hold so that {@link #onRecover(ParticipantCheckpoint, List, long)}
   * builds this core's durable state again: the records of every branch still remembered (open
   * ones, and finished ones within retention, which answer duplicates and peers' questions), and
   * the horizon below which branches were forgotten. Taken right after the records drained so far
   * were appended, it covers exactly them (minus those of forgotten branches), so a log may drop
   * everything before a checkpoint once the checkpoint is durable.
   */
  public ParticipantCheckpoint checkpoint() {
    List<ParticipantRecord> records = new ArrayList<>();
    for (Branch b : branches.values()) {
      records.addAll(b.records);
    }
    return new ParticipantCheckpoint(forgottenBeforeMillis, records);
  }

  // ---------------------------------------------------------------- recovery

  /**
   * Rebuilds branches from the log after a start. Prepared branches without a decision are in doubt
   * and start asking at once; decided ones re-apply the decision (resources are idempotent). The
   * driver must run the resource manager's own recovery before carrying out the resulting resource
   * calls.
   */
  public void onRecover(List<ParticipantRecord> log, long nowMillis) {
    onRecover(new ParticipantCheckpoint(0, List.of()), log, nowMillis);
  }

  /**
   * Recovery from a checkpoint ({@link #checkpoint()}) and the records logged after it. Branches
   * the checkpoint left out were forgotten before it was taken; its horizon keeps them forgotten (a
   * question about one answers UNKNOWN, never a presumed outcome).
   */
  public void onRecover(
      ParticipantCheckpoint checkpoint, List<ParticipantRecord> after, long nowMillis) {
    if (!branches.isEmpty()) {
      throw new ProtocolViolation("recovery must run on a fresh core");
    }
    recoveredAtMillis = nowMillis;
    forgottenBeforeMillis = checkpoint.forgottenBeforeMillis();
    List<ParticipantRecord> log = new ArrayList<>(checkpoint.records().size() + after.size());
    log.addAll(checkpoint.records());
    log.addAll(after);
    for (ParticipantRecord record : log) {
      Branch b =
          record instanceof CompletedRecord
              ? branches.get(record.txId())
              : branches.computeIfAbsent(record.txId(), id -> recovered(id, nowMillis));
      if (b == null) {
        continue; // completed, and its earlier records were left out of a checkpoint
      }
      b.records.add(record);
      if (record instanceof PreparedRecord p) {
        b.peers = p.participants();
        b.branchData = p.branchData();
        b.vote = Vote.YES;
      } else if (record instanceof HeuristicRecord h) {
        if (b.decision != null && b.decision != h.decision()) {
          // A decision record whose sync was reported failed did reach the disk: it is the real
          // decision, and the operator forced the other outcome after it.
          b.realDecision = b.decision;
        }
        b.decision = h.decision();
        b.heuristic = true;
        b.heuristicReason = h.reason();
        b.heuristicAtMillis = h.decidedAtMillis();
      } else if (record instanceof DecisionRecord d) {
        if (b.heuristic) {
          b.realDecision = d.decision();
          continue;
        }
        if (b.decision != null && b.decision != d.decision()) {
          throw new ProtocolViolation(
              "log holds two decisions for " + d.txId() + ": " + b.decision + ", " + d.decision());
        }
        b.decision = d.decision();
        if (d.onePhase()) {
          b.branchData = d.branchData();
          b.onePhase = true;
        }
      } else if (record instanceof CompletedRecord c) {
        b.finishedAtMillis = nowMillis;
        b.lastAnswer = "completed";
        b.decision = c.decision();
      }
    }
    List<Branch> all = new ArrayList<>(branches.values());
    for (Branch b : all) {
      if (b.heuristic && b.realDecision == null) {
        b.nextConfirmMillis = nowMillis;
        unconfirmedHeuristics.put(b.txId, b);
      }
      if (b.decision == null) {
        b.nextInquiryMillis = nowMillis; // in doubt: ask at once
      } else {
        move(b, BranchState.LOGGING_DECISION, nowMillis);
        move(b, BranchState.APPLYING, nowMillis);
        if ("completed".equals(b.lastAnswer)) {
          move(
              b,
              b.decision == Decision.COMMIT ? BranchState.COMMITTED : BranchState.ABORTED,
              nowMillis);
        } else {
          applyDecision(b);
        }
      }
    }
    onTick(nowMillis);
  }

  private Branch recovered(TxId id, long nowMillis) {
    Branch b = new Branch(id, BranchState.LOGGING_DECISION, nowMillis, Long.MAX_VALUE);
    open.put(id, b);
    // Recovered branches start from "decision pending"; move to PREPARED for in-doubt ones.
    move(b, BranchState.PREPARED, nowMillis);
    return b;
  }

  /** Branches the log holds prepared (in doubt or decided but not yet applied), for recovery. */
  public List<TxId> preparedBranches() {
    List<TxId> ids = new ArrayList<>();
    for (Branch b : branches.values()) {
      if (b.state().inDoubt() || b.state() == BranchState.APPLYING) {
        ids.add(b.txId);
      }
    }
    return ids;
  }

  /** The data the resource gave at prepare, for its recovery. */
  public byte[] branchData(TxId txId) {
    Branch b = branches.get(txId);
    return b == null ? new byte[0] : b.branchData;
  }

  // ---------------------------------------------------------------- work

  /**
   * Work under {@code txId} is about to start here (before the participant enlists). Returns false
   * with nothing changed if the branch cannot take work: it is already past ACTIVE (or aborted), or
   * the open-branch limit is reached.
   */
  public boolean onWorkStarted(TxId txId, long nowMillis) {
    Branch b = branches.get(txId);
    if (b != null) {
      return b.state() == BranchState.ACTIVE;
    }
    if (open.size() >= config.branchesMax()
        || txId.createdAtMillis() < forgottenBeforeMillis
        || fromTheFuture(txId, nowMillis)) {
      return false;
    }
    Branch started =
        new Branch(txId, BranchState.ACTIVE, nowMillis, nowMillis + config.activeTimeoutMillis());
    branches.put(txId, started);
    open.put(txId, started);
    return true;
  }

  /**
   * The coordinator accepted this participant into {@code txId} and will abort it at {@code
   * deadlineMillis} unless commit begins. The branch may abort on its own after that, also if the
   * coordinator crashed and forgot the transaction: nobody can hold a YES of a branch that has not
   * voted.
   */
  public void onEnlisted(TxId txId, long deadlineMillis) {
    Branch b = branches.get(txId);
    if (b != null && b.state() == BranchState.ACTIVE && deadlineMillis > 0) {
      b.activeDeadlineMillis = Math.min(b.activeDeadlineMillis, deadlineMillis);
    }
  }

  /**
   * A call that did work in this branch was cancelled before its answer reached the client (its
   * deadline passed, the connection broke). A client that names participants in its commit rolls
   * back such a transaction, and may not even know this participant's name to tell it: an ACTIVE
   * branch aborts now instead of holding its locks until its deadline. Always safe: a branch that
   * has not voted may abort on its own. A branch past ACTIVE is left to the decision.
   */
  public void onWorkAbandoned(TxId txId, long nowMillis) {
    Branch b = branches.get(txId);
    if (b != null && b.state() == BranchState.ACTIVE) {
      abortUnprepared(b, "a business call's answer never reached the client", nowMillis);
    }
  }

  // ---------------------------------------------------------------- messages

  public void onMessage(Message message, long nowMillis) {
    // Java 17 has no pattern switch; the sealed Message type keeps this list complete.
    if (message instanceof Message.Prepare p) {
      onPrepare(p, nowMillis);
    } else if (message instanceof Message.OnePhaseCommit o) {
      onOnePhaseCommit(o, nowMillis);
    } else if (message instanceof Message.PhaseTwo d) {
      onDecision(d.txId(), d.decision(), "coordinator", nowMillis);
    } else if (message instanceof Message.OutcomeReply r) {
      onOutcomeReply(r, nowMillis);
    } else if (message instanceof Message.OutcomeQuery q) {
      onOutcomeQuery(q, nowMillis);
    } else {
      throw new IllegalArgumentException("participant cannot handle " + message);
    }
  }

  /** A message to {@code party} about {@code txId} could not be delivered. */
  public void onSendFailed(TxId txId, String party, String error, long nowMillis) {
    Branch b = branches.get(txId);
    if (b != null) {
      b.failedToReach(party, error);
    }
  }

  private void onPrepare(Message.Prepare prepare, long nowMillis) {
    Branch b = branches.get(prepare.txId());
    if (b == null) {
      // No work here under this id (lost in a restart, or never done): a YES is impossible.
      if (prepare.txId().createdAtMillis() >= forgottenBeforeMillis
          && !fromTheFuture(prepare.txId(), nowMillis)) {
        tombstone(prepare.txId(), nowMillis);
      }
      sendVote(prepare.txId(), Vote.NO, "no work under this transaction id here");
      return;
    }
    b.heardFrom("coordinator", nowMillis);
    switch (b.state()) {
      case ACTIVE -> {
        b.peers = prepare.participants();
        move(b, BranchState.PREPARING, nowMillis);
        effects.call(new ResourceCall.Prepare(b.txId));
      }
      case PREPARING, LOGGING_VOTE -> {} // the vote goes out when ready
      case PREPARED, LOGGING_DECISION, APPLYING -> sendVote(b.txId, Vote.YES, "");
      case COMMITTED -> sendVote(b.txId, b.vote == null ? Vote.YES : b.vote, "");
      case ABORTED -> sendVote(b.txId, Vote.NO, "branch already aborted");
      case READ_ONLY -> sendVote(b.txId, Vote.READ_ONLY, "");
    }
  }

  private void onOnePhaseCommit(Message.OnePhaseCommit request, long nowMillis) {
    Branch b = branches.get(request.txId());
    if (b == null) {
      if (request.txId().createdAtMillis() < forgottenBeforeMillis) {
        sendOnePhaseResult(
            request.txId(),
            Outcome.UNKNOWN,
            "forgotten: older than what this participant remembers (retention)");
      } else if (fromTheFuture(request.txId(), nowMillis)) {
        sendOnePhaseResult(
            request.txId(), Outcome.UNKNOWN, "transaction id created in the future; refused");
      } else {
        tombstone(request.txId(), nowMillis);
        sendOnePhaseResult(request.txId(), Outcome.ABORTED, "no work under this id here");
      }
      return;
    }
    b.heardFrom("coordinator", nowMillis);
    switch (b.state()) {
      case ACTIVE -> {
        b.onePhase = true;
        move(b, BranchState.PREPARING, nowMillis);
        effects.call(new ResourceCall.Prepare(b.txId));
      }
      case PREPARING, LOGGING_VOTE, LOGGING_DECISION, APPLYING, PREPARED -> {}
      case COMMITTED, READ_ONLY -> sendOnePhaseResult(b.txId, Outcome.COMMITTED, "");
      case ABORTED -> sendOnePhaseResult(b.txId, Outcome.ABORTED, b.lastAnswer);
    }
  }

  /** The decision, from the coordinator or a peer that knows it. */
  private void onDecision(TxId txId, Decision decision, String from, long nowMillis) {
    Branch b = branches.get(txId);
    if (b == null) {
      // Finished and forgotten here (or never seen): the decision needs nothing more from us.
      sendAck(txId, decision);
      return;
    }
    b.heardFrom(from, nowMillis);
    if (config.unsafe().commitOnAbort()
        && decision == Decision.ABORT
        && (b.state() == BranchState.PREPARED || b.decision == Decision.COMMIT)) {
      // TEST ONLY: the agreement bug the simulator and the Jepsen checkers must catch (every
      // later ABORT for the branch is read as COMMIT too, so the core's own check stays quiet).
      decision = Decision.COMMIT;
    }
    if (b.heuristic) {
      learnRealDecision(b, decision);
      // Acknowledge with what this branch applied: a mismatch reaches the coordinator as an alarm.
      if (b.state().finished()) {
        sendAck(txId, b.decision);
      } // LOGGING_DECISION or APPLYING: the ack goes out when applied
      return;
    }
    if (b.decision != null && b.decision != decision) {
      throw new ProtocolViolation(
          "branch " + txId + " got " + decision + " after " + b.decision + " (from " + from + ")");
    }
    switch (b.state()) {
      case ACTIVE -> {
        requireAbort(b, decision, from);
        abortUnprepared(b, "aborted by the coordinator", nowMillis);
        sendAck(txId, Decision.ABORT);
      }
      case PREPARING -> {
        requireAbort(b, decision, from);
        b.abortWhenPrepared = true;
      }
      case LOGGING_VOTE -> {
        requireAbort(b, decision, from);
        b.abortWhenPrepared = true;
      }
      case PREPARED -> {
        b.decision = decision;
        move(b, BranchState.LOGGING_DECISION, nowMillis);
        log(b, new DecisionRecord(txId, decision, false, new byte[0], nowMillis));
      }
      case LOGGING_DECISION, APPLYING -> {} // the ack goes out when applied
      case COMMITTED -> sendAck(txId, Decision.COMMIT);
      case ABORTED -> {
        requireAbort(b, decision, from);
        sendAck(txId, Decision.ABORT);
      }
      case READ_ONLY -> sendAck(txId, decision);
    }
  }

  private void requireAbort(Branch b, Decision decision, String from) {
    if (decision == Decision.COMMIT) {
      throw new ProtocolViolation(
          "COMMIT for "
              + b.txId
              + " from "
              + from
              + " but this branch never sent YES ("
              + b.state()
              + ")");
    }
  }

  private void onOutcomeReply(Message.OutcomeReply reply, long nowMillis) {
    Branch b = branches.get(reply.txId());
    if (b == null) {
      return;
    }
    String from = reply.from().toString();
    b.heardFrom(from, nowMillis);
    if (b.heuristic) {
      // Only the coordinator's answer is the real decision (peers may hold forced outcomes too).
      if (reply.from() instanceof Peer.Coordinator) {
        switch (reply.outcome()) {
          case COMMITTED -> learnRealDecision(b, Decision.COMMIT);
          case ABORTED -> learnRealDecision(b, Decision.ABORT);
          case UNKNOWN -> {
            b.lastAnswer = from + ": " + reply.reason();
            if (reply.reason().startsWith("forgotten")) {
              b.realDecisionNote = "the coordinator no longer remembers the decision";
              unconfirmedHeuristics.remove(b.txId);
            }
          }
        }
      }
      return;
    }
    if (!b.state().inDoubt() || b.state() == BranchState.LOGGING_DECISION) {
      return;
    }
    switch (reply.outcome()) {
      case COMMITTED -> onDecision(b.txId, Decision.COMMIT, from, nowMillis);
      case ABORTED -> onDecision(b.txId, Decision.ABORT, from, nowMillis);
      case UNKNOWN -> b.lastAnswer = from + ": " + reply.reason();
    }
  }

  /** A peer (or anyone) asks what we know. Not voted YES yet: abort, and say so. */
  private void onOutcomeQuery(Message.OutcomeQuery query, long nowMillis) {
    TxId txId = query.txId();
    Branch b = branches.get(txId);
    Answer answer;
    if (b == null) {
      if (txId.createdAtMillis() < forgottenBeforeMillis) {
        answer =
            new Answer(
                Outcome.UNKNOWN,
                "forgotten here: older than what this participant remembers (retention)");
      } else if (txId.createdAtMillis() < recoveredAtMillis + TxId.CLOCK_SKEW_MAX_MILLIS) {
        // It may have voted READ_ONLY before a restart (no record), and the others commit with
        // that: an ABORTED here could contradict a COMMIT. Only those who know may answer.
        answer =
            new Answer(
                Outcome.UNKNOWN,
                "no record here, but the transaction may predate this participant's restart");
      } else if (fromTheFuture(txId, nowMillis)) {
        answer = new Answer(Outcome.UNKNOWN, "transaction id created in the future");
      } else {
        tombstone(txId, nowMillis);
        answer = new Answer(Outcome.ABORTED, "");
      }
    } else if (b.heuristic) {
      // A forced outcome is not the decision: telling it to a peer would spread the guess.
      answer =
          new Answer(
              Outcome.UNKNOWN,
              "outcome forced here by an operator (heuristic); ask the coordinator for the decision");
    } else {
      answer =
          switch (b.state()) {
            case ACTIVE -> {
              abortUnprepared(b, "aborted on a peer's question before voting", nowMillis);
              yield new Answer(Outcome.ABORTED, "");
            }
            case PREPARING -> {
              b.abortWhenPrepared = true; // it never voted YES, so it may still abort
              yield new Answer(Outcome.UNKNOWN, "preparing; it will abort");
            }
            case LOGGING_VOTE, PREPARED ->
                new Answer(Outcome.UNKNOWN, "prepared here too, waiting for the decision");
            case LOGGING_DECISION, APPLYING -> new Answer(b.decision.outcome(), "");
            case COMMITTED -> new Answer(Outcome.COMMITTED, "");
            case ABORTED -> new Answer(Outcome.ABORTED, "");
            case READ_ONLY ->
                new Answer(
                    Outcome.UNKNOWN, "read-only here; this participant does not learn the outcome");
          };
    }
    effects.send(
        new Send(
            query.from(), new Message.OutcomeReply(txId, self, answer.outcome(), answer.reason())));
  }

  private record Answer(Outcome outcome, String reason) {}

  // ---------------------------------------------------------------- resource results

  /** The resource finished prepare for {@code txId} with this vote. */
  public void onResourcePrepared(
      TxId txId, Vote vote, byte[] branchData, String reason, long nowMillis) {
    Branch b = branches.get(txId);
    if (b == null || b.state() != BranchState.PREPARING) {
      return;
    }
    if (b.abortWhenPrepared || vote == Vote.NO) {
      b.vote = Vote.NO;
      if (vote != Vote.NO) {
        effects.call(new ResourceCall.Rollback(txId, new byte[0]));
      }
      move(b, BranchState.ABORTED, nowMillis);
      b.lastAnswer = vote == Vote.NO ? reason : "aborted while preparing";
      if (b.onePhase) {
        sendOnePhaseResult(txId, Outcome.ABORTED, b.lastAnswer);
      } else if (vote == Vote.NO) {
        sendVote(txId, Vote.NO, reason);
      } else {
        sendAck(txId, Decision.ABORT);
      }
      return;
    }
    b.vote = vote;
    b.branchData = branchData;
    if (b.onePhase) {
      // One-phase: this participant decides, and logs it even when read-only, so that what the
      // coordinator is told stays true after any crash. The record carries the branch data.
      b.decision = Decision.COMMIT;
      move(b, BranchState.LOGGING_DECISION, nowMillis);
      log(b, new DecisionRecord(txId, Decision.COMMIT, true, branchData, nowMillis));
      return;
    }
    if (vote == Vote.READ_ONLY) {
      move(b, BranchState.READ_ONLY, nowMillis);
      sendVote(txId, Vote.READ_ONLY, "");
      return;
    }
    move(b, BranchState.LOGGING_VOTE, nowMillis);
    log(b, new PreparedRecord(txId, b.peers, branchData, nowMillis));
    if (config.unsafe().voteBeforeDurable()) {
      sendVote(txId, Vote.YES, ""); // TEST ONLY: the bug the simulator must catch
    }
  }

  /** The resource applied the decision (or failed to, for a retry later). */
  public void onResourceApplied(TxId txId, boolean succeeded, String error, long nowMillis) {
    Branch b = branches.get(txId);
    if (b == null || b.state() != BranchState.APPLYING) {
      return;
    }
    if (!succeeded) {
      b.lastAnswer = "resource failed to apply " + b.decision + ": " + error;
      b.nextInquiryMillis =
          nowMillis + config.inquiry().delayMillis(++b.inquiries, txId.sequence());
      return;
    }
    move(b, b.decision == Decision.COMMIT ? BranchState.COMMITTED : BranchState.ABORTED, nowMillis);
    log(b, new CompletedRecord(txId, b.decision));
    if (b.onePhase) {
      sendOnePhaseResult(txId, b.decision.outcome(), "");
    } else {
      sendAck(txId, b.decision);
    }
  }

  // ---------------------------------------------------------------- log results

  /** A record appended for {@code txId} is durable. */
  public void onRecordDurable(ParticipantRecord record, long nowMillis) {
    Branch b = branches.get(record.txId());
    if (b == null) {
      return;
    }
    if (record instanceof PreparedRecord) {
      if (b.state() != BranchState.LOGGING_VOTE) {
        return;
      }
      if (b.abortWhenPrepared) {
        // ABORT arrived while the vote was being logged: treat the branch as prepared and apply.
        move(b, BranchState.PREPARED, nowMillis);
        b.decision = Decision.ABORT;
        move(b, BranchState.LOGGING_DECISION, nowMillis);
        log(b, new DecisionRecord(b.txId, Decision.ABORT, false, new byte[0], nowMillis));
        return;
      }
      move(b, BranchState.PREPARED, nowMillis);
      b.nextInquiryMillis = nowMillis + config.inquiryAfterMillis();
      if (!config.unsafe().voteBeforeDurable()) {
        sendVote(b.txId, Vote.YES, "");
      }
    } else if (record instanceof DecisionRecord) {
      if (b.state() != BranchState.LOGGING_DECISION || b.heuristic) {
        return;
      }
      move(b, BranchState.APPLYING, nowMillis);
      applyDecision(b);
    } else if (record instanceof HeuristicRecord) {
      if (b.state() != BranchState.LOGGING_DECISION || !b.heuristic) {
        return;
      }
      move(b, BranchState.APPLYING, nowMillis);
      applyDecision(b);
      if (b.operatorWaiting) {
        b.operatorWaiting = false;
        effects.reply(
            new OperatorReply(
                b.txId,
                OperatorReply.Kind.FORCED,
                "recorded " + b.decision + " as a heuristic decision; applying it"));
      }
      b.nextConfirmMillis = nowMillis;
      unconfirmedHeuristics.put(b.txId, b);
    }
  }

  /**
   * An append failed: the record may or may not be on disk. A vote record that failed becomes a NO
   * (if it did reach the disk, recovery finds a prepared branch and asks, and learns ABORT). A
   * decision record that failed leaves the branch prepared; the decision will come again.
   */
  public void onRecordFailed(ParticipantRecord record, String reason, long nowMillis) {
    Branch b = branches.get(record.txId());
    if (b == null) {
      return;
    }
    if (record instanceof PreparedRecord && b.state() == BranchState.LOGGING_VOTE) {
      // The vote became NO: whether or not the record reached the disk, a checkpoint need not
      // keep it (recovery from it would only ask about a branch that voted NO).
      b.records.remove(record);
      b.vote = Vote.NO;
      move(b, BranchState.ABORTED, nowMillis);
      b.lastAnswer = "vote could not be logged: " + reason;
      effects.call(new ResourceCall.Rollback(b.txId, b.branchData));
      sendVote(b.txId, Vote.NO, b.lastAnswer);
    } else if (record instanceof HeuristicRecord && b.state() == BranchState.LOGGING_DECISION) {
      // It may or may not be on disk; the operator's decision stands, so append it again.
      b.lastAnswer = "heuristic record could not be logged (retrying): " + reason;
      b.nextInquiryMillis = nowMillis + config.inquiry().delayMillis(1, b.txId.sequence());
    } else if (record instanceof DecisionRecord && b.state() == BranchState.LOGGING_DECISION) {
      b.lastAnswer = "decision could not be logged: " + reason;
      if (b.onePhase) {
        // The one-phase COMMIT may or may not be on disk: say UNKNOWN and append it again;
        // a repeated decision record is harmless and the retry settles it.
        b.nextInquiryMillis =
            nowMillis + config.inquiry().delayMillis(++b.inquiries, b.txId.sequence());
        sendOnePhaseResult(b.txId, Outcome.UNKNOWN, b.lastAnswer);
        return;
      }
      b.decision = null;
      move(b, BranchState.PREPARED, nowMillis);
      b.nextInquiryMillis = nowMillis + config.inquiry().delayMillis(1, b.txId.sequence());
    }
  }

  // ---------------------------------------------------------------- operator

  /**
   * An operator forces the outcome of this branch (a heuristic decision, PROTOCOL.md rule 4). Only
   * a PREPARED branch that does not know the decision is forced: the decision is recorded durably
   * with the reason ({@link HeuristicRecord}), then applied. The answer comes as an {@link
   * OperatorReply} effect, FORCED only once the record is durable. Refused when the branch already
   * knows the other outcome or is not in doubt. The caller (the admin CLI) also checks the
   * coordinator and the peers first; this is the last check, where the branch lives.
   */
  public void onOperatorDecision(TxId txId, Decision decision, String reason, long nowMillis) {
    Branch b = branches.get(txId);
    if (b == null) {
      operatorReply(
          txId,
          OperatorReply.Kind.NOT_FOUND,
          "no branch " + txId + " here (never seen, or finished and forgotten)");
      return;
    }
    if (reason == null || reason.isBlank()) {
      operatorReply(txId, OperatorReply.Kind.REFUSED, "a forced decision needs a reason");
      return;
    }
    if (b.heuristic) {
      if (b.decision == decision) {
        operatorReply(
            txId,
            OperatorReply.Kind.ALREADY,
            "already forced to " + decision + " by an operator: " + b.heuristicReason);
      } else {
        operatorReply(
            txId,
            OperatorReply.Kind.REFUSED,
            "already forced to " + b.decision + " by an operator; a forced outcome is final here");
      }
      return;
    }
    if (b.decision != null) {
      if (b.decision == decision) {
        operatorReply(
            txId, OperatorReply.Kind.ALREADY, "the branch already has the decision " + decision);
      } else {
        operatorReply(
            txId,
            OperatorReply.Kind.REFUSED,
            "the branch already learned the decision " + b.decision + "; it cannot be " + decision);
      }
      return;
    }
    switch (b.state()) {
      case PREPARED -> {
        b.heuristic = true;
        b.heuristicReason = reason;
        b.heuristicAtMillis = nowMillis;
        b.decision = decision;
        b.operatorWaiting = true;
        b.lastAnswer = "";
        b.nextInquiryMillis = 0; // from now on: only a failed heuristic append schedules a retry
        move(b, BranchState.LOGGING_DECISION, nowMillis);
        log(b, new HeuristicRecord(txId, decision, reason, nowMillis));
      }
      case ACTIVE, PREPARING, LOGGING_VOTE ->
          operatorReply(
              txId,
              OperatorReply.Kind.REFUSED,
              "the branch is "
                  + b.state()
                  + ", not prepared: it has not voted YES, so it is not in doubt");
      case ABORTED ->
          operatorReply(
              txId,
              decision == Decision.ABORT ? OperatorReply.Kind.ALREADY : OperatorReply.Kind.REFUSED,
              "the branch is already ABORTED here (it never voted YES)");
      case READ_ONLY ->
          operatorReply(
              txId, OperatorReply.Kind.REFUSED, "the branch voted READ_ONLY: nothing to force");
      case LOGGING_DECISION, APPLYING, COMMITTED ->
          operatorReply(
              txId, OperatorReply.Kind.REFUSED, "the branch is " + b.state() + " and not in doubt");
    }
  }

  private void operatorReply(TxId txId, OperatorReply.Kind kind, String message) {
    effects.reply(new OperatorReply(txId, kind, message));
  }

  /** A heuristic branch learned the real decision; a mismatch is kept as an alarm. */
  private void learnRealDecision(Branch b, Decision real) {
    if (b.realDecision == null) {
      b.realDecision = real;
      unconfirmedHeuristics.remove(b.txId);
    }
  }

  // ---------------------------------------------------------------- time

  public void onTick(long nowMillis) {
    for (Branch b : new ArrayList<>(open.values())) {
      switch (b.state()) {
        case ACTIVE -> {
          if (nowMillis >= b.activeDeadlineMillis) {
            abortUnprepared(b, "no prepare before the branch timeout", nowMillis);
          }
        }
        case PREPARED -> {
          if (nowMillis >= b.nextInquiryMillis) {
            inquire(b, nowMillis);
          }
        }
        case APPLYING -> {
          if (b.nextInquiryMillis != 0 && nowMillis >= b.nextInquiryMillis) {
            b.nextInquiryMillis = 0;
            applyDecision(b);
          }
        }
        case COMMITTED, ABORTED, READ_ONLY -> {} // not open; forgotten below
        case LOGGING_DECISION -> {
          if (b.onePhase && b.nextInquiryMillis != 0 && nowMillis >= b.nextInquiryMillis) {
            b.nextInquiryMillis = 0;
            log(b, new DecisionRecord(b.txId, b.decision, true, b.branchData, nowMillis));
          } else if (b.heuristic && b.nextInquiryMillis != 0 && nowMillis >= b.nextInquiryMillis) {
            b.nextInquiryMillis = 0;
            log(b, new HeuristicRecord(b.txId, b.decision, b.heuristicReason, b.heuristicAtMillis));
          }
        }
        case PREPARING, LOGGING_VOTE -> {}
      }
    }
    for (Branch b : new ArrayList<>(unconfirmedHeuristics.values())) {
      if (nowMillis >= b.nextConfirmMillis) {
        b.confirmAttempts++;
        b.nextConfirmMillis =
            nowMillis + config.inquiry().delayMillis(b.confirmAttempts, b.txId.sequence());
        b.attempted("coordinator", nowMillis);
        effects.send(new Send(Peer.COORDINATOR, new Message.Inquiry(b.txId, self, b.decision)));
      }
    }
    while (!finished.isEmpty()) {
      Branch head = finished.peekFirst();
      boolean expired = nowMillis - head.finishedAtMillis >= config.retentionMillis();
      boolean overCount = finished.size() > config.rememberedMax();
      // Forgetting raises the horizon, below which new work is refused: by count alone, never past
      // a transaction younger than the clock-skew window, whose work may still be on its way here.
      if (!expired
          && !(overCount && head.txId.createdAtMillis() < nowMillis - TxId.CLOCK_SKEW_MAX_MILLIS)) {
        break;
      }
      Branch old = finished.pollFirst();
      if (old.heuristic) {
        continue; // the audit of a forced outcome is kept; an operator reads it
      }
      branches.remove(old.txId);
      forgottenBeforeMillis = Math.max(forgottenBeforeMillis, old.txId.createdAtMillis() + 1);
    }
  }

  // ---------------------------------------------------------------- reads

  public Optional<BranchView> describe(TxId txId) {
    Branch b = branches.get(txId);
    return b == null ? Optional.empty() : Optional.of(view(b));
  }

  public List<BranchView> list() {
    List<BranchView> views = new ArrayList<>();
    branches.values().stream()
        .sorted(Comparator.comparing(b -> b.txId))
        .forEach(b -> views.add(view(b)));
    return views;
  }

  public BranchState state(TxId txId) {
    Branch b = branches.get(txId);
    return b == null ? null : b.state();
  }

  // ---------------------------------------------------------------- internals

  /**
   * Asks the coordinator again and, while the coordinator stays silent, the peers too. Peers are
   * not asked while the coordinator answers: a peer still preparing would abort on the question,
   * and a live coordinator will decide anyway.
   */
  private void inquire(Branch b, long nowMillis) {
    // Unreachable means the last question failed (an error, a deadline); a question still in
    // flight is not silence: a freshly restarted node's first call can take a while.
    Blocking.Contact coordinator = b.contacts.get("coordinator");
    boolean coordinatorSilent = coordinator != null && !coordinator.lastError().isEmpty();
    b.inquiries++;
    b.nextInquiryMillis = nowMillis + config.inquiry().delayMillis(b.inquiries, b.txId.sequence());
    b.attempted("coordinator", nowMillis);
    effects.send(new Send(Peer.COORDINATOR, new Message.Inquiry(b.txId, self)));
    if (coordinatorSilent && b.inquiries % config.peerQueryEvery() == 0) {
      for (ParticipantRef peer : b.peers) {
        if (!peer.name().equals(self.name())) {
          b.attempted(peer.name(), nowMillis);
          effects.send(new Send(peer, new Message.OutcomeQuery(b.txId, self)));
        }
      }
    }
  }

  private void applyDecision(Branch b) {
    effects.call(
        b.decision == Decision.COMMIT
            ? new ResourceCall.Commit(b.txId, b.branchData)
            : new ResourceCall.Rollback(b.txId, b.branchData));
  }

  private void abortUnprepared(Branch b, String why, long nowMillis) {
    b.lastAnswer = why;
    move(b, BranchState.ABORTED, nowMillis);
    effects.call(new ResourceCall.Rollback(b.txId, new byte[0]));
  }

  private void move(Branch b, BranchState next, long nowMillis) {
    b.transitionTo(next, nowMillis);
    if (next.finished()) {
      open.remove(b.txId);
      finished.addLast(b);
    }
  }

  /**
   * Ids no coordinator can have issued yet (beyond the clock-skew window): never remembered, so
   * that a bad id can neither hold back forgetting nor, once forgotten, push the horizon into the
   * future.
   */
  private static boolean fromTheFuture(TxId txId, long nowMillis) {
    return txId.createdAtMillis() > nowMillis + TxId.CLOCK_SKEW_MAX_MILLIS;
  }

  /** Remembers that this id is aborted here, so a late prepare or work is refused. */
  private void tombstone(TxId txId, long nowMillis) {
    Branch b = new Branch(txId, BranchState.ACTIVE, nowMillis, nowMillis);
    b.lastAnswer = "no work under this id here";
    move(b, BranchState.ABORTED, nowMillis);
    branches.put(txId, b);
  }

  private void sendVote(TxId txId, Vote vote, String reason) {
    effects.send(new Send(Peer.COORDINATOR, new Message.VoteReply(txId, self, vote, reason)));
  }

  private void sendAck(TxId txId, Decision decision) {
    effects.send(new Send(Peer.COORDINATOR, new Message.Ack(txId, self, decision)));
  }

  private void sendOnePhaseResult(TxId txId, Outcome outcome, String reason) {
    effects.send(
        new Send(Peer.COORDINATOR, new Message.OnePhaseResult(txId, self, outcome, reason)));
  }

  /** The last contact with every party the branch depends on, asked yet or not. */
  private List<Blocking.Contact> contactsOf(Branch b) {
    List<Blocking.Contact> contacts = new ArrayList<>();
    contacts.add(b.contacts.getOrDefault("coordinator", neverContacted("coordinator")));
    for (ParticipantRef peer : b.peers) {
      if (!peer.name().equals(self.name())) {
        contacts.add(b.contacts.getOrDefault(peer.name(), neverContacted(peer.name())));
      }
    }
    return contacts;
  }

  private static Blocking.Contact neverContacted(String party) {
    return new Blocking.Contact(party, 0, 0, "");
  }

  private BranchView view(Branch b) {
    Blocking blocking = null;
    if (b.state().inDoubt() && !b.heuristic) {
      String waitingFor =
          "decision from the coordinator"
              + (b.peers.size() > 1 ? " or a peer that knows it" : "")
              + (b.lastAnswer.isEmpty() ? "" : " (last answer: " + b.lastAnswer + ")");
      blocking =
          new Blocking(
              b.txId,
              b.state().name(),
              b.stateSinceMillis,
              waitingFor,
              contactsOf(b),
              b.inquiries,
              b.nextInquiryMillis);
    }
    BranchView.Heuristic heuristic =
        b.heuristic
            ? new BranchView.Heuristic(
                b.decision,
                b.heuristicReason,
                b.heuristicAtMillis,
                b.realDecision,
                b.realDecisionNote)
            : null;
    return new BranchView(
        b.txId, b.state(), b.stateSinceMillis, b.vote, b.peers, blocking, heuristic);
  }
}
