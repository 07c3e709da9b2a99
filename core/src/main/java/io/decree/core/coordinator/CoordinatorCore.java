package io.decree.core.coordinator;

import io.decree.core.Answer;
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
import io.decree.core.coordinator.ClientReply.Rejection;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import io.decree.core.coordinator.CoordinatorRecord.EndRecord;
import io.decree.core.coordinator.CoordinatorRecord.HorizonRecord;
import io.decree.core.coordinator.CoordinatorRecord.OnePhaseRecord;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The coordinator's two-phase-commit protocol as a pure state machine: inputs are calls, messages,
 * log-append results and time; outputs ({@link #drain()}) are records to append, messages to send
 * and replies. No I/O, threads or clocks; one thread feeds it.
 *
 * <p>Rules it keeps (PROTOCOL.md):
 *
 * <ul>
 *   <li>Persist before send: a reply or phase-2 message that depends on a decision is emitted only
 *       from {@link #onDecisionDurable}.
 *   <li>Presumed abort: an abort before any prepare went out writes no record. Once prepares are
 *       out, ABORT is logged before anyone is told. Any query about an id with no record makes
 *       ABORT durable first, unless the id is older than the forget horizon (then UNKNOWN).
 *   <li>Never guess: a failed or timed-out append answers UNKNOWN and is retried; the log's
 *       first-wins rule tells which decision stands.
 * </ul>
 */
public final class CoordinatorCore {
  private final CoordinatorConfig config;
  private final int issuer;

  /** Every transaction held: live ones and ended ones kept for status queries. */
  private final Map<TxId, CoordinatorTx> txs = new HashMap<>();

  /** The transactions not yet ENDED: the only ones a tick needs to look at. */
  private final Map<TxId, CoordinatorTx> live = new LinkedHashMap<>();

  /** ENDED transactions in the order they ended, so forgetting pops from the head. */
  private final ArrayDeque<CoordinatorTx> ended = new ArrayDeque<>();

  private final Map<String, TxId> byIdempotencyKey = new HashMap<>();
  private CoordinatorEffects effects = new CoordinatorEffects();
  private long sequence;
  private long lastIdMillis;
  private long forgottenBeforeMillis;
  private int undecidedCount;

  /**
   * @param issuer this incarnation's id part; must differ between incarnations (drivers use a
   *     persisted counter or a seeded random value)
   */
  public CoordinatorCore(CoordinatorConfig config, int issuer) {
    this.config = config;
    this.issuer = issuer;
  }

  /** Takes the effects accumulated since the last call. */
  public CoordinatorEffects drain() {
    return effects.drain();
  }

  // ---------------------------------------------------------------- recovery

  /** Rebuilds state from the decision log (in append order) after a start or restart. */
  public void onRecover(List<CoordinatorRecord> log, long nowMillis) {
    if (!txs.isEmpty()) {
      throw new ProtocolViolation("recovery must run on a fresh core");
    }
    for (CoordinatorRecord record : log) {
      if (record instanceof DecisionRecord d) {
        recoverDecision(d);
      } else if (record instanceof EndRecord e) {
        CoordinatorTx tx = txs.get(e.txId());
        if (tx != null && tx.phase() != TxPhase.ENDED && !tx.phase().undecided()) {
          tx.progress().forEach(p -> p.acknowledged = true);
          tx.transitionTo(TxPhase.ENDED, e.endedAtMillis());
          tx.endedAtMillis = e.endedAtMillis();
        }
      } else if (record instanceof OnePhaseRecord o) {
        if (!txs.containsKey(o.txId())) {
          CoordinatorTx tx = new CoordinatorTx(o.txId(), "", Long.MAX_VALUE, nowMillis);
          tx.participants.put(o.participant().name(), new ParticipantProgress(o.participant()));
          tx.transitionTo(TxPhase.DELEGATING, nowMillis);
          tx.transitionTo(TxPhase.ONE_PHASE, nowMillis);
          tx.event(nowMillis, "recovered: one-phase commit delegated, outcome not yet learned");
          txs.put(o.txId(), tx);
          undecidedCount++;
        }
      } else if (record instanceof HorizonRecord h) {
        forgottenBeforeMillis = Math.max(forgottenBeforeMillis, h.createdBeforeMillis());
      }
    }
    txs.values()
        .removeIf(
            tx -> tx.phase() == TxPhase.ENDED && tx.id.createdAtMillis() < forgottenBeforeMillis);
    lastIdMillis = Math.max(lastIdMillis, forgottenBeforeMillis);
    List<CoordinatorTx> endedInLog = new ArrayList<>();
    for (CoordinatorTx tx : txs.values()) {
      if (tx.phase() == TxPhase.ENDED) {
        endedInLog.add(tx);
      } else {
        live.put(tx.id, tx);
      }
    }
    endedInLog.sort(Comparator.comparingLong(tx -> tx.endedAtMillis));
    ended.addAll(endedInLog);
    for (CoordinatorTx tx : txs.values()) {
      lastIdMillis = Math.max(lastIdMillis, tx.id.createdAtMillis());
      // Re-drive at once: phase 2 for decided transactions, the question for delegated ones.
      tx.progress().forEach(p -> p.nextRetryMillis = nowMillis);
    }
    onTick(nowMillis);
  }

  private void recoverDecision(DecisionRecord d) {
    CoordinatorTx existing = txs.get(d.txId());
    if (existing != null && existing.decision != null && existing.decisionDurable) {
      return; // first decision wins; a later one in the log is ignored
    }
    CoordinatorTx tx = existing;
    if (tx == null) {
      tx = new CoordinatorTx(d.txId(), "", Long.MAX_VALUE, d.decidedAtMillis());
      txs.put(d.txId(), tx);
    } else if (tx.phase().undecided()) {
      undecidedCount--;
    }
    for (ParticipantRef ref : d.participants()) {
      tx.participants.computeIfAbsent(ref.name(), n -> new ParticipantProgress(ref));
    }
    // Only the participants named in the record need phase 2 (READ_ONLY ones were dropped).
    tx.participants.values().removeIf(p -> !d.participants().contains(p.ref));
    tx.decision = d.decision();
    tx.decisionDurable = true;
    tx.decisionDurableMillis = d.decidedAtMillis();
    if (tx.phase() != TxPhase.DECIDING) {
      moveThroughTo(tx, TxPhase.DECIDING, d.decidedAtMillis());
    }
    tx.transitionTo(
        d.decision() == Decision.COMMIT ? TxPhase.COMMITTING : TxPhase.ABORTING,
        d.decidedAtMillis());
    tx.event(d.decidedAtMillis(), "recovered decision " + d.decision());
  }

  private static void moveThroughTo(CoordinatorTx tx, TxPhase target, long nowMillis) {
    if (tx.phase() == TxPhase.DELEGATING && target == TxPhase.DECIDING) {
      tx.transitionTo(TxPhase.DECIDING, nowMillis);
    } else if (tx.phase().canMoveTo(target)) {
      tx.transitionTo(target, nowMillis);
    } else {
      throw new ProtocolViolation("cannot recover " + tx.id + " from " + tx.phase());
    }
  }

  // ---------------------------------------------------------------- client calls

  /**
   * begin; with {@code participantsNamedAtCommit} the client will name the participants with its
   * commit, and a commit that does not name them aborts the transaction (see {@link #onCommit(long,
   * TxId, List, boolean, boolean, long)}).
   */
  public void onBegin(
      long callId,
      String idempotencyKey,
      long timeoutMillis,
      boolean participantsNamedAtCommit,
      long nowMillis) {
    String key = idempotencyKey == null ? "" : idempotencyKey;
    if (!key.isEmpty()) {
      TxId known = byIdempotencyKey.get(key);
      if (known != null && txs.containsKey(known)) {
        effects.reply(callId, new ClientReply.Began(known, txs.get(known).deadlineMillis));
        return;
      }
    }
    if (timeoutMillis <= 0 || timeoutMillis > config.txTimeoutMaxMillis()) {
      reject(
          callId,
          Rejection.INVALID_ARGUMENT,
          "timeout must be 1.." + config.txTimeoutMaxMillis() + " ms, got " + timeoutMillis);
      return;
    }
    if (undecidedCount >= config.inFlightMax()) {
      reject(
          callId,
          Rejection.RESOURCE_EXHAUSTED,
          "too many transactions in flight (" + config.inFlightMax() + "); retry later");
      return;
    }
    lastIdMillis = Math.max(lastIdMillis, Math.max(nowMillis, forgottenBeforeMillis));
    TxId id = new TxId(lastIdMillis, issuer, ++sequence);
    CoordinatorTx tx = new CoordinatorTx(id, key, nowMillis + timeoutMillis, nowMillis);
    tx.participantsNamedAtCommit = participantsNamedAtCommit;
    tx.event(
        nowMillis, participantsNamedAtCommit ? "begun (participants named at commit)" : "begun");
    track(tx);
    undecidedCount++;
    if (!key.isEmpty()) {
      byIdempotencyKey.put(key, id);
    }
    effects.reply(callId, new ClientReply.Began(id, tx.deadlineMillis));
  }

  /** enlist: a participant joins an active transaction. Repeating it is harmless. */
  public void onEnlist(long callId, TxId txId, ParticipantRef participant, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null) {
      reject(
          callId,
          isForgotten(txId) ? Rejection.FAILED_PRECONDITION : Rejection.NOT_FOUND,
          "cannot enlist in " + txId + ": no active transaction with this id");
      return;
    }
    ParticipantProgress known = tx.participants.get(participant.name());
    if (known != null) {
      if (!known.ref.equals(participant)) {
        reject(callId, Rejection.INVALID_ARGUMENT, enlistedElsewhere(txId, known, participant));
      } else {
        effects.reply(callId, new ClientReply.Enlisted(txId, tx.deadlineMillis));
      }
      return;
    }
    if (tx.phase() != TxPhase.ACTIVE) {
      reject(
          callId,
          Rejection.FAILED_PRECONDITION,
          "cannot enlist in " + txId + ": it is already " + tx.phase());
      return;
    }
    if (tx.participants.size() >= config.participantsPerTxMax()) {
      reject(
          callId,
          Rejection.RESOURCE_EXHAUSTED,
          "transaction "
              + txId
              + " already has "
              + config.participantsPerTxMax()
              + " participants (the limit)");
      return;
    }
    join(tx, participant, "", nowMillis);
    effects.reply(callId, new ClientReply.Enlisted(txId, tx.deadlineMillis));
  }

  /**
   * commit: runs phase 1 (or delegates to a single participant). The reply comes once the decision
   * is durable, or at the end of phase 2 when {@code waitForPhaseTwo}.
   */
  public void onCommit(long callId, TxId txId, boolean waitForPhaseTwo, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null) {
      answerWithoutRecord(callId, txId, nowMillis);
      return;
    }
    switch (tx.phase()) {
      case ACTIVE -> {
        waitFor(tx, callId, waitForPhaseTwo);
        startCommit(tx, nowMillis);
      }
      case PREPARING, DELEGATING, ONE_PHASE, DECIDING -> waitFor(tx, callId, waitForPhaseTwo);
      case COMMITTING, ABORTING -> {
        if (waitForPhaseTwo) {
          tx.endWaiters.add(callId);
        } else {
          replyDecision(callId, tx);
        }
      }
      case ENDED -> replyDecision(callId, tx);
    }
  }

  /**
   * commit, with the participants the client saw join (each named itself in its business answer:
   * docs/protocol.md, "Enlisting on the way back"): they are enlisted first, then it is {@link
   * #onCommit}. All or nothing: a name that conflicts (another address) or comes after phase 1
   * began is refused and changes nothing; more than the limit aborts. A transaction begun with
   * participants named at commit is aborted by a commit that does not name them ({@code
   * namesParticipants} false), and one already aborted answers ABORTED. Repeating the same commit
   * is safe: participants already enlisted with the same address are no change.
   */
  public void onCommit(
      long callId,
      TxId txId,
      List<ParticipantRef> joining,
      boolean namesParticipants,
      boolean waitForPhaseTwo,
      long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx != null
        && tx.phase() == TxPhase.ACTIVE
        && tx.participantsNamedAtCommit
        && !namesParticipants) {
      // Its participants started work without enlisting: a commit that cannot name them (another
      // process, a client that lost track) would commit without them. Only an abort is safe.
      abortBeforePrepare(
          tx,
          "its participants are named by the client that began it, and this commit named none",
          nowMillis);
    }
    // Aborted already (or just now): the answer is the abort, whatever the commit names.
    if (tx != null && tx.decision != Decision.ABORT && !joinNamed(callId, tx, joining, nowMillis)) {
      return;
    }
    onCommit(callId, txId, waitForPhaseTwo, nowMillis);
  }

  /**
   * Enlists the participants a commit names, all or none. False when it refused the call (a name at
   * two addresses, a newcomer after phase 1 began); over the limit it aborts the transaction, which
   * the commit then answers.
   */
  private boolean joinNamed(
      long callId, CoordinatorTx tx, List<ParticipantRef> joining, long nowMillis) {
    List<ParticipantRef> newcomers = new ArrayList<>();
    for (ParticipantRef p : joining) {
      ParticipantProgress known = tx.participants.get(p.name());
      if (known != null && !known.ref.equals(p)) {
        reject(callId, Rejection.INVALID_ARGUMENT, enlistedElsewhere(tx.id, known, p));
        return false;
      }
      Optional<ParticipantRef> twin =
          newcomers.stream().filter(n -> n.name().equals(p.name())).findFirst();
      if (twin.isPresent() && !twin.get().equals(p)) {
        reject(
            callId,
            Rejection.INVALID_ARGUMENT,
            "participant '"
                + p.name()
                + "' is named twice, at "
                + twin.get().address()
                + " and at "
                + p.address());
        return false;
      }
      if (known == null && twin.isEmpty()) {
        newcomers.add(p);
      }
    }
    if (!newcomers.isEmpty() && tx.phase() != TxPhase.ACTIVE) {
      reject(
          callId,
          Rejection.FAILED_PRECONDITION,
          "cannot enlist "
              + newcomers.get(0).name()
              + " in "
              + tx.id
              + ": it is already "
              + tx.phase());
      return false;
    }
    if (tx.participants.size() + newcomers.size() > config.participantsPerTxMax()) {
      // The work is done and cannot all be committed: abort, which the client can act on.
      abortBeforePrepare(
          tx,
          "the commit named "
              + (tx.participants.size() + newcomers.size())
              + " participants; the limit is "
              + config.participantsPerTxMax(),
          nowMillis);
      return true;
    }
    for (ParticipantRef p : newcomers) {
      join(tx, p, " (named by the commit)", nowMillis);
    }
    return true;
  }

  /**
   * rollback, with the participants the client saw join: while the transaction is still active they
   * are enlisted first, so they hear the abort now rather than at their own deadline.
   */
  public void onRollback(long callId, TxId txId, List<ParticipantRef> joining, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx != null && tx.phase() == TxPhase.ACTIVE) {
      for (ParticipantRef p : joining) {
        if (!tx.participants.containsKey(p.name())
            && tx.participants.size() < config.participantsPerTxMax()) {
          join(tx, p, " (named by the rollback)", nowMillis);
        }
      }
    }
    onRollback(callId, txId, nowMillis);
  }

  private static void join(CoordinatorTx tx, ParticipantRef p, String how, long nowMillis) {
    tx.participants.put(p.name(), new ParticipantProgress(p));
    tx.event(nowMillis, "enlisted " + p.name() + how);
  }

  private static String enlistedElsewhere(
      TxId txId, ParticipantProgress known, ParticipantRef other) {
    return "participant '"
        + other.name()
        + "' is already enlisted in "
        + txId
        + " at "
        + known.ref.address()
        + ", not "
        + other.address();
  }

  /** rollback: aborts unless the decision is already made; then it answers that decision. */
  public void onRollback(long callId, TxId txId, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null) {
      answerWithoutRecord(callId, txId, nowMillis);
      return;
    }
    switch (tx.phase()) {
      case ACTIVE -> {
        abortBeforePrepare(tx, "rolled back by the client", nowMillis);
        replyDecision(callId, tx);
      }
      case PREPARING -> {
        tx.decisionWaiters.add(callId);
        decide(tx, Decision.ABORT, "rolled back by the client during phase 1", nowMillis);
      }
      // The decision is out of our hands (delegated or being made durable): report it when known.
      case DELEGATING, ONE_PHASE, DECIDING -> tx.decisionWaiters.add(callId);
      case COMMITTING, ABORTING, ENDED -> replyDecision(callId, tx);
    }
  }

  /** status: what is known now. Never waits, except to make a presumed ABORT durable. */
  public void onStatus(long callId, TxId txId, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null) {
      answerWithoutRecord(callId, txId, nowMillis);
      return;
    }
    effects.reply(callId, new ClientReply.Answered(currentAnswer(tx), tx.phase()));
  }

  // ---------------------------------------------------------------- messages

  /** A message from a participant. Late, duplicated and unknown messages are ignored safely. */
  public void onMessage(Message message, long nowMillis) {
    // Java 17 has no pattern switch; the sealed Message type keeps this list complete.
    if (message instanceof Message.VoteReply v) {
      onVote(v, nowMillis);
    } else if (message instanceof Message.Ack a) {
      onAck(a, nowMillis);
    } else if (message instanceof Message.OnePhaseResult r) {
      onOnePhaseResult(r, nowMillis);
    } else if (message instanceof Message.Inquiry i) {
      onInquiry(i, nowMillis);
    } else if (!(message instanceof Message.OutcomeReply)) {
      // A participant-bound message arriving here is a routing mistake, not a state to act on.
      throw new IllegalArgumentException("coordinator cannot handle " + message);
    }
  }

  /** A send to a participant failed (unreachable, timed out); only bookkeeping for status. */
  public void onSendFailed(TxId txId, ParticipantRef to, String error, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null) {
      return;
    }
    ParticipantProgress p = tx.participants.get(to.name());
    if (p != null) {
      p.lastError = error;
    }
  }

  private void onVote(Message.VoteReply vote, long nowMillis) {
    CoordinatorTx tx = txs.get(vote.txId());
    if (tx == null) {
      return;
    }
    ParticipantProgress p = tx.participants.get(vote.from().name());
    if (p == null) {
      return;
    }
    p.heardFrom(nowMillis);
    if (tx.phase() != TxPhase.PREPARING || p.vote != null) {
      return; // late or duplicate
    }
    p.vote = vote.vote();
    tx.event(nowMillis, vote.from().name() + " voted " + vote.vote());
    switch (vote.vote()) {
      case NO -> {
        p.acknowledged = true; // a NO vote has already rolled its branch back
        decide(tx, Decision.ABORT, vote.from().name() + " voted NO: " + vote.reason(), nowMillis);
      }
      case READ_ONLY -> {
        p.acknowledged = true;
        maybeDecideCommit(tx, nowMillis);
      }
      case YES -> maybeDecideCommit(tx, nowMillis);
    }
  }

  private void maybeDecideCommit(CoordinatorTx tx, long nowMillis) {
    if (tx.progress().stream().allMatch(p -> p.vote == Vote.YES || p.vote == Vote.READ_ONLY)) {
      decide(tx, Decision.COMMIT, "every participant voted YES or READ_ONLY", nowMillis);
    }
  }

  private void onAck(Message.Ack ack, long nowMillis) {
    CoordinatorTx tx = txs.get(ack.txId());
    if (tx == null) {
      return;
    }
    ParticipantProgress p = tx.participants.get(ack.from().name());
    if (tx.decision == null || !tx.decisionDurable) {
      return;
    }
    if (p == null && ack.decision() != tx.decision) {
      // A forced branch this node does not list (lost in a restart, or a presumed abort): keep it,
      // so the mismatch is an alarm here too.
      p = new ParticipantProgress(ack.from());
      p.acknowledged = true;
      tx.participants.put(ack.from().name(), p);
    }
    if (p == null) {
      return;
    }
    p.heardFrom(nowMillis);
    if (ack.decision() != tx.decision) {
      // The participant applied the other outcome: only an operator's forced (heuristic)
      // decision can cause this. Record the alarm, stop retrying that participant, and keep the
      // transaction open (no END) so the alarm stays visible and survives a restart: a restarted
      // coordinator re-drives phase 2 and hears the mismatch again.
      p.heuristic = ack.decision();
      checkHeuristic(tx, p, nowMillis);
      return;
    }
    if (!p.acknowledged) {
      p.acknowledged = true;
      tx.event(nowMillis, ack.from().name() + " acknowledged " + ack.decision());
    }
    maybeEnd(tx, nowMillis);
  }

  private void onOnePhaseResult(Message.OnePhaseResult result, long nowMillis) {
    CoordinatorTx tx = txs.get(result.txId());
    if (tx == null || tx.phase() != TxPhase.ONE_PHASE) {
      return;
    }
    ParticipantProgress p = tx.participants.get(result.from().name());
    if (p == null) {
      return;
    }
    p.heardFrom(nowMillis);
    if (!result.outcome().definite() && result.reason().startsWith("forgotten")) {
      // The participant finished and forgot the branch before we learned the outcome (we were
      // down longer than its retention). Nobody can prove it now: say so for good, stop asking.
      tx.decisionUncertainReason =
          "forgotten: " + p.ref + " no longer remembers the one-phase outcome";
      undecidedCount--;
      end(tx, nowMillis);
      replyToWaiters(tx, Answer.unknown(tx.id, tx.decisionUncertainReason));
      return;
    }
    if (!result.outcome().definite()) {
      tx.event(nowMillis, result.from().name() + " could not finish: " + result.reason());
      replyToWaiters(
          tx, Answer.unknown(tx.id, "one-phase commit at " + p.ref + ": " + result.reason()));
      return;
    }
    // The participant's outcome is durable at the participant, so it may be reported at once;
    // the record lets status queries answer after a restart without asking again.
    Decision decision = result.outcome() == Outcome.COMMITTED ? Decision.COMMIT : Decision.ABORT;
    p.vote = decision == Decision.COMMIT ? Vote.YES : Vote.NO;
    p.acknowledged = true;
    tx.decision = decision;
    tx.decisionDurable = true;
    tx.decisionDurableMillis = nowMillis;
    tx.transitionTo(decision == Decision.COMMIT ? TxPhase.COMMITTING : TxPhase.ABORTING, nowMillis);
    undecidedCount--;
    effects.append(new DecisionRecord(tx.id, decision, List.of(), nowMillis));
    replyToWaiters(tx, Answer.of(tx.id, decision));
    maybeEnd(tx, nowMillis);
  }

  private void onInquiry(Message.Inquiry inquiry, long nowMillis) {
    CoordinatorTx tx = txs.get(inquiry.txId());
    ParticipantRef from = inquiry.from();
    if (tx == null) {
      if (isForgotten(inquiry.txId())) {
        sendOutcome(from, Answer.unknown(inquiry.txId(), forgottenReason(inquiry.txId())));
        return;
      }
      tx = presumeAbort(inquiry.txId(), nowMillis);
      if (tx == null) {
        sendOutcome(from, Answer.unknown(inquiry.txId(), "coordinator is at its in-flight limit"));
        return;
      }
    }
    ParticipantProgress p = tx.participants.get(from.name());
    if (p != null) {
      p.heardFrom(nowMillis);
    }
    if (inquiry.heuristic() != null) {
      // An operator forced this branch. Keep what it reports, even if this node lost the
      // participant (restart, presumed abort): an alarm must not depend on what we remember.
      if (p == null && tx.phase() != TxPhase.ACTIVE && tx.phase() != TxPhase.PREPARING) {
        p = new ParticipantProgress(from);
        p.acknowledged = true; // not a phase-2 target of the logged decision
        p.heardFrom(nowMillis);
        tx.participants.put(from.name(), p);
      }
      if (p != null) {
        p.heuristic = inquiry.heuristic();
        tx.event(nowMillis, from.name() + " reports a heuristic " + inquiry.heuristic());
        checkHeuristic(tx, p, nowMillis);
      }
    }
    if (tx.decision != null && tx.decisionDurable) {
      sendOutcome(from, Answer.of(tx.id, tx.decision));
      return;
    }
    if (tx.phase() == TxPhase.DECIDING) {
      tx.inquirers.add(from);
      return;
    }
    sendOutcome(from, Answer.unknown(tx.id, "not decided yet: " + tx.phase()));
  }

  // ---------------------------------------------------------------- log results

  /**
   * A decision record is durable. {@code winner} is what the log holds: the first decision appended
   * for the transaction, which may differ from the one this node proposed.
   */
  public void onDecisionDurable(DecisionRecord winner, long nowMillis) {
    CoordinatorTx tx = txs.get(winner.txId());
    if (tx == null || (tx.decisionDurable && tx.phase() != TxPhase.DECIDING)) {
      return; // an END or duplicate made this moot
    }
    if (tx.phase() != TxPhase.DECIDING) {
      throw new ProtocolViolation(
          "decision for " + tx.id + " became durable in phase " + tx.phase());
    }
    if (tx.decision != winner.decision()) {
      tx.event(nowMillis, "the log already held " + winner.decision() + "; it stands");
      for (ParticipantRef ref : winner.participants()) {
        tx.participants.computeIfAbsent(ref.name(), n -> new ParticipantProgress(ref));
      }
    }
    tx.decision = winner.decision();
    tx.decisionDurable = true;
    tx.decisionDurableMillis = nowMillis;
    tx.decisionUncertainReason = "";
    tx.transitionTo(
        winner.decision() == Decision.COMMIT ? TxPhase.COMMITTING : TxPhase.ABORTING, nowMillis);
    undecidedCount--;
    // Only the participants the record names need phase 2; the rest voted NO or READ_ONLY.
    for (ParticipantProgress p : tx.progress()) {
      if (!winner.participants().contains(p.ref)) {
        p.acknowledged = true;
      }
    }
    // Phase 2 is a new exchange: send at once, and count its retries from zero.
    for (ParticipantProgress p : tx.progress()) {
      p.attempts = 0;
      p.nextRetryMillis = nowMillis;
    }
    Answer answer = decidedAnswer(tx);
    if (!config.unsafeSendBeforeDurable()) {
      replyToWaiters(tx, answer);
      sendPhaseTwo(tx, nowMillis);
    }
    for (ParticipantRef inquirer : tx.inquirers) {
      sendOutcome(inquirer, answer);
    }
    tx.inquirers.clear();
    for (ParticipantProgress p : new ArrayList<>(tx.progress())) {
      checkHeuristic(tx, p, nowMillis);
    }
    maybeEnd(tx, nowMillis);
  }

  /**
   * Compares a participant's heuristic (forced) outcome with the durable decision. A match means
   * the participant applied the decision: it counts as its ack. A mismatch is a heuristic-mixed
   * outcome: an ALARM on the timeline, no more phase-2 retries to it, and no END.
   */
  private void checkHeuristic(CoordinatorTx tx, ParticipantProgress p, long nowMillis) {
    if (p.heuristic == null || !tx.decisionDurable) {
      return;
    }
    if (p.heuristic == tx.decision) {
      if (!p.acknowledged) {
        p.acknowledged = true;
        tx.event(nowMillis, p.ref.name() + " applied " + p.heuristic + " (heuristic, agrees)");
        maybeEnd(tx, nowMillis);
      }
      return;
    }
    if (!p.alarmLogged) {
      p.alarmLogged = true;
      tx.event(
          nowMillis,
          "ALARM: heuristic mixed: "
              + p.ref.name()
              + " applied "
              + p.heuristic
              + " (forced by an operator), the decision is "
              + tx.decision);
    }
  }

  /**
   * A decision append failed or timed out. The record may or may not be on disk, so everyone
   * waiting hears UNKNOWN, and the same decision is appended again later: first-wins makes the
   * retry safe and tells which decision stands.
   */
  public void onDecisionAppendFailed(TxId txId, String reason, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null || tx.phase() != TxPhase.DECIDING) {
      return;
    }
    tx.decisionUncertainReason = "decision log: " + reason;
    tx.decisionAttempts++;
    tx.decisionRetryMillis =
        nowMillis + config.retry().delayMillis(tx.decisionAttempts, tx.id.sequence());
    tx.event(nowMillis, "decision append failed: " + reason);
    Answer unknown = Answer.unknown(tx.id, tx.decisionUncertainReason);
    replyToWaiters(tx, unknown);
    for (ParticipantRef inquirer : tx.inquirers) {
      sendOutcome(inquirer, unknown);
    }
    tx.inquirers.clear();
  }

  /** The one-phase delegation record is durable: now the participant may be asked. */
  public void onOnePhaseDurable(TxId txId, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null || tx.phase() != TxPhase.DELEGATING) {
      return;
    }
    tx.transitionTo(TxPhase.ONE_PHASE, nowMillis);
    ParticipantProgress only = tx.progress().iterator().next();
    sendOnePhase(tx, only, nowMillis);
  }

  /**
   * The delegation record could not be made durable. Nothing was sent, so the transaction can still
   * be aborted, through the log as always.
   */
  public void onOnePhaseAppendFailed(TxId txId, String reason, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    if (tx == null || tx.phase() != TxPhase.DELEGATING) {
      return;
    }
    decide(tx, Decision.ABORT, "one-phase delegation could not be logged: " + reason, nowMillis);
  }

  // ---------------------------------------------------------------- time

  /** Timeouts and retries due at {@code nowMillis}. Call it periodically. */
  public void onTick(long nowMillis) {
    long oldestLive = Long.MAX_VALUE;
    for (CoordinatorTx tx : new ArrayList<>(live.values())) {
      oldestLive = Math.min(oldestLive, tx.id.createdAtMillis());
      switch (tx.phase()) {
        case ACTIVE -> {
          if (nowMillis >= tx.deadlineMillis) {
            abortBeforePrepare(tx, "timed out before commit", nowMillis);
          }
        }
        case PREPARING -> {
          if (nowMillis >= tx.prepareDeadlineMillis) {
            decide(tx, Decision.ABORT, "prepare timed out: " + missingVotes(tx), nowMillis);
          } else {
            resendPrepares(tx, nowMillis);
          }
        }
        case DELEGATING -> {}
        case ONE_PHASE -> {
          ParticipantProgress only = tx.progress().iterator().next();
          if (nowMillis >= only.nextRetryMillis) {
            sendOnePhase(tx, only, nowMillis);
          }
        }
        case DECIDING -> {
          if (!tx.decisionUncertainReason.isEmpty() && nowMillis >= tx.decisionRetryMillis) {
            tx.decisionRetryMillis = Long.MAX_VALUE; // until this append reports back
            effects.append(new DecisionRecord(tx.id, tx.decision, phaseTwoTargets(tx), nowMillis));
          }
        }
        case COMMITTING, ABORTING -> sendPhaseTwo(tx, nowMillis);
        case ENDED -> {}
      }
    }
    forgetOld(nowMillis, oldestLive);
  }

  /**
   * This node stopped leading (cluster mode): in-memory phase-1 state is dropped, its callers hear
   * UNKNOWN, and whoever leads next finishes or aborts those transactions through the log.
   */
  public void onLeadershipLost(long nowMillis) {
    for (CoordinatorTx tx : txs.values()) {
      replyToWaiters(tx, Answer.unknown(tx.id, "coordinator lost leadership; ask the new leader"));
      tx.endWaiters.forEach(
          c ->
              effects.reply(
                  c,
                  new ClientReply.Answered(
                      Answer.unknown(tx.id, "coordinator lost leadership"), tx.phase())));
      tx.endWaiters.clear();
    }
    txs.clear();
    live.clear();
    ended.clear();
    byIdempotencyKey.clear();
    undecidedCount = 0;
  }

  // ---------------------------------------------------------------- reads for admin and status

  public Optional<TxView> describe(TxId txId, long nowMillis) {
    CoordinatorTx tx = txs.get(txId);
    return tx == null ? Optional.empty() : Optional.of(view(tx, nowMillis));
  }

  /** Every transaction held in memory, oldest first. */
  public List<TxView> list(long nowMillis) {
    List<TxView> views = new ArrayList<>(txs.size());
    txs.values().stream()
        .sorted(Comparator.comparing(tx -> tx.id))
        .forEach(tx -> views.add(view(tx, nowMillis)));
    return views;
  }

  public int undecidedCount() {
    return undecidedCount;
  }

  /** Transactions held in memory (live and recently ended). */
  public int heldCount() {
    return txs.size();
  }

  /** Transactions held with a heuristic-mixed alarm. */
  public int alarmCount() {
    int count = 0;
    for (CoordinatorTx tx : txs.values()) {
      if (tx.alarm()) {
        count++;
      }
    }
    return count;
  }

  public long forgottenBeforeMillis() {
    return forgottenBeforeMillis;
  }

  // ---------------------------------------------------------------- internals

  private void startCommit(CoordinatorTx tx, long nowMillis) {
    int count = tx.participants.size();
    if (count == 0) {
      decide(tx, Decision.COMMIT, "no participants enlisted", nowMillis);
    } else if (count == 1 && config.onePhaseCommit()) {
      ParticipantProgress only = tx.progress().iterator().next();
      tx.transitionTo(TxPhase.DELEGATING, nowMillis);
      effects.append(new OnePhaseRecord(tx.id, only.ref));
    } else {
      tx.transitionTo(TxPhase.PREPARING, nowMillis);
      tx.prepareDeadlineMillis = nowMillis + config.prepareTimeoutMillis();
      Message.Prepare prepare = new Message.Prepare(tx.id, tx.refs());
      for (ParticipantProgress p : tx.progress()) {
        p.attempted(nowMillis, nowMillis + config.retry().delayMillis(1, tx.id.sequence()));
        effects.send(new Send(p.ref, prepare));
      }
    }
  }

  private void resendPrepares(CoordinatorTx tx, long nowMillis) {
    Message.Prepare prepare = null;
    for (ParticipantProgress p : tx.progress()) {
      if (p.vote == null && nowMillis >= p.nextRetryMillis) {
        if (prepare == null) {
          prepare = new Message.Prepare(tx.id, tx.refs());
        }
        p.attempted(
            nowMillis, nowMillis + config.retry().delayMillis(p.attempts + 1, tx.id.sequence()));
        effects.send(new Send(p.ref, prepare));
      }
    }
  }

  private void sendOnePhase(CoordinatorTx tx, ParticipantProgress only, long nowMillis) {
    only.attempted(
        nowMillis, nowMillis + config.retry().delayMillis(only.attempts + 1, tx.id.sequence()));
    effects.send(new Send(only.ref, new Message.OnePhaseCommit(tx.id)));
  }

  /** Proposes a decision by appending it; nobody hears it until {@link #onDecisionDurable}. */
  private void decide(CoordinatorTx tx, Decision decision, String why, long nowMillis) {
    tx.decision = decision;
    tx.transitionTo(TxPhase.DECIDING, nowMillis);
    tx.event(nowMillis, "deciding " + decision + ": " + why);
    if (decision == Decision.ABORT) {
      tx.abortReason = why;
    }
    DecisionRecord record = new DecisionRecord(tx.id, decision, phaseTwoTargets(tx), nowMillis);
    effects.append(record);
    if (config.unsafeSendBeforeDurable()) {
      // TEST ONLY: the bug the simulator must catch.
      replyToWaiters(tx, Answer.of(tx.id, decision));
      Message.PhaseTwo phaseTwo = new Message.PhaseTwo(tx.id, decision);
      for (ParticipantRef ref : record.participants()) {
        effects.send(new Send(ref, phaseTwo));
      }
    }
  }

  /** Who must hear the decision: everyone except those that voted NO or READ_ONLY. */
  private static List<ParticipantRef> phaseTwoTargets(CoordinatorTx tx) {
    List<ParticipantRef> targets = new ArrayList<>();
    for (ParticipantProgress p : tx.progress()) {
      if (p.vote != Vote.NO && p.vote != Vote.READ_ONLY) {
        targets.add(p.ref);
      }
    }
    return targets;
  }

  /** Before any prepare went out nobody can have voted YES, so no record is needed. */
  private void abortBeforePrepare(CoordinatorTx tx, String why, long nowMillis) {
    tx.decision = Decision.ABORT;
    tx.decisionDurable = true; // nothing can ever commit it: no prepare was sent
    tx.decisionDurableMillis = nowMillis;
    tx.event(nowMillis, "aborted: " + why);
    end(tx, nowMillis);
    undecidedCount--;
    Message.PhaseTwo abort = new Message.PhaseTwo(tx.id, Decision.ABORT);
    for (ParticipantProgress p : tx.progress()) {
      p.acknowledged = true; // best effort: participants also time out their work themselves
      effects.send(new Send(p.ref, abort));
    }
    tx.abortReason = why;
    replyToWaiters(tx, decidedAnswer(tx));
    tx.endWaiters.forEach(c -> replyDecision(c, tx));
    tx.endWaiters.clear();
  }

  private void sendPhaseTwo(CoordinatorTx tx, long nowMillis) {
    Message.PhaseTwo phaseTwo = null;
    for (ParticipantProgress p : tx.progress()) {
      if (!p.acknowledged && !p.alarm(tx.decision) && nowMillis >= p.nextRetryMillis) {
        if (phaseTwo == null) {
          phaseTwo = new Message.PhaseTwo(tx.id, tx.decision);
        }
        p.attempted(
            nowMillis, nowMillis + config.retry().delayMillis(p.attempts + 1, tx.id.sequence()));
        effects.send(new Send(p.ref, phaseTwo));
      }
    }
  }

  private void maybeEnd(CoordinatorTx tx, long nowMillis) {
    if ((tx.phase() == TxPhase.COMMITTING || tx.phase() == TxPhase.ABORTING)
        && tx.allAcknowledged()
        && !tx.alarm()) {
      end(tx, nowMillis);
      effects.append(new EndRecord(tx.id, nowMillis));
      tx.endWaiters.forEach(c -> replyDecision(c, tx));
      tx.endWaiters.clear();
    }
  }

  /**
   * commit, rollback or status for an id with no state here. Older than the horizon: forgotten.
   * From the future: never issued. Otherwise it was lost before any decision was logged (a crash or
   * a lost leadership), so ABORT is made durable first and then reported.
   */
  private void answerWithoutRecord(long callId, TxId txId, long nowMillis) {
    if (isForgotten(txId)) {
      effects.reply(
          callId,
          new ClientReply.Answered(Answer.unknown(txId, forgottenReason(txId)), TxPhase.ENDED));
      return;
    }
    if (txId.createdAtMillis() > nowMillis + config.clockSkewMaxMillis()) {
      reject(
          callId, Rejection.NOT_FOUND, "unknown transaction " + txId + " (created in the future)");
      return;
    }
    CoordinatorTx tx = presumeAbort(txId, nowMillis);
    if (tx == null) {
      reject(
          callId,
          Rejection.RESOURCE_EXHAUSTED,
          "cannot record the presumed abort of " + txId + ": too many transactions in flight");
      return;
    }
    tx.decisionWaiters.add(callId);
  }

  private CoordinatorTx presumeAbort(TxId txId, long nowMillis) {
    if (undecidedCount >= config.inFlightMax()) {
      return null;
    }
    CoordinatorTx tx = new CoordinatorTx(txId, "", nowMillis, nowMillis);
    track(tx);
    undecidedCount++;
    decide(tx, Decision.ABORT, "no record of this transaction (presumed abort)", nowMillis);
    return tx;
  }

  private boolean isForgotten(TxId txId) {
    return txId.createdAtMillis() < forgottenBeforeMillis;
  }

  private String forgottenReason(TxId txId) {
    return "forgotten: " + txId + " is older than the retention window";
  }

  /**
   * Drops ended transactions past retention (or beyond the count limit), oldest ended first, and
   * raises the horizon so a later question about them answers UNKNOWN(forgotten). The horizon never
   * passes a live transaction: after a restart such a one must still be presumed aborted or
   * finished, not reported as forgotten.
   */
  private void forgetOld(long nowMillis, long oldestLiveCreatedMillis) {
    long horizon = forgottenBeforeMillis;
    while (!ended.isEmpty()) {
      CoordinatorTx head = ended.peekFirst();
      boolean expired = nowMillis - head.endedAtMillis >= config.retentionMillis();
      boolean overCount = txs.size() > config.rememberedMax();
      if (!(expired || overCount) || head.id.createdAtMillis() >= oldestLiveCreatedMillis) {
        break;
      }
      ended.pollFirst();
      txs.remove(head.id);
      if (!head.idempotencyKey.isEmpty()) {
        byIdempotencyKey.remove(head.idempotencyKey, head.id);
      }
      horizon = Math.max(horizon, head.id.createdAtMillis() + 1);
    }
    if (horizon > forgottenBeforeMillis) {
      forgottenBeforeMillis = horizon;
      effects.append(new HorizonRecord(horizon));
    }
  }

  private void track(CoordinatorTx tx) {
    txs.put(tx.id, tx);
    live.put(tx.id, tx);
  }

  private void end(CoordinatorTx tx, long nowMillis) {
    tx.transitionTo(TxPhase.ENDED, nowMillis);
    tx.endedAtMillis = nowMillis;
    live.remove(tx.id);
    ended.addLast(tx);
  }

  private void waitFor(CoordinatorTx tx, long callId, boolean waitForPhaseTwo) {
    if (waitForPhaseTwo) {
      tx.endWaiters.add(callId);
    } else {
      tx.decisionWaiters.add(callId);
    }
  }

  private void replyToWaiters(CoordinatorTx tx, Answer answer) {
    for (long callId : tx.decisionWaiters) {
      effects.reply(callId, new ClientReply.Answered(answer, tx.phase()));
    }
    tx.decisionWaiters.clear();
    if (!answer.outcome().definite()) {
      for (long callId : tx.endWaiters) {
        effects.reply(callId, new ClientReply.Answered(answer, tx.phase()));
      }
      tx.endWaiters.clear();
    }
  }

  private void replyDecision(long callId, CoordinatorTx tx) {
    effects.reply(callId, new ClientReply.Answered(currentAnswer(tx), tx.phase()));
  }

  /** The decided outcome; an abort says why, when this node decided it since it started. */
  private static Answer decidedAnswer(CoordinatorTx tx) {
    return tx.decision == Decision.ABORT
        ? new Answer(tx.id, Outcome.ABORTED, tx.abortReason)
        : Answer.of(tx.id, tx.decision);
  }

  private Answer currentAnswer(CoordinatorTx tx) {
    if (tx.decision != null && tx.decisionDurable) {
      return decidedAnswer(tx);
    }
    if (!tx.decisionUncertainReason.isEmpty()) {
      return Answer.unknown(tx.id, tx.decisionUncertainReason);
    }
    return Answer.unknown(tx.id, "not decided yet: " + tx.phase());
  }

  private void sendOutcome(ParticipantRef to, Answer answer) {
    effects.send(
        new Send(
            to,
            new Message.OutcomeReply(
                answer.txId(), Peer.COORDINATOR, answer.outcome(), answer.reason())));
  }

  private void reject(long callId, Rejection kind, String message) {
    effects.reply(callId, new ClientReply.Rejected(kind, message));
  }

  private static String missingVotes(CoordinatorTx tx) {
    List<String> missing = new ArrayList<>();
    tx.progress().stream().filter(p -> p.vote == null).forEach(p -> missing.add(p.ref.name()));
    return "no vote from " + String.join(", ", missing);
  }

  private TxView view(CoordinatorTx tx, long nowMillis) {
    List<ParticipantView> participants = new ArrayList<>();
    tx.progress().forEach(p -> participants.add(p.view(tx.durableDecision())));
    return new TxView(
        tx.id,
        tx.phase(),
        tx.phaseSinceMillis,
        participants,
        tx.decision,
        tx.decisionDurable ? tx.decisionDurableMillis : 0,
        tx.timeline(),
        blocking(tx));
  }

  private static Blocking blocking(CoordinatorTx tx) {
    List<Blocking.Contact> contacts = new ArrayList<>();
    int retries = 0;
    long nextRetry = 0;
    List<String> waitingOn = new ArrayList<>();
    List<String> alarms = new ArrayList<>();
    for (ParticipantProgress p : tx.progress()) {
      contacts.add(p.contact());
      if (p.alarm(tx.durableDecision())) {
        alarms.add(p.ref.name() + " applied " + p.heuristic + " (heuristic)");
        continue;
      }
      boolean waited =
          switch (tx.phase()) {
            case PREPARING -> p.vote == null;
            case ONE_PHASE, COMMITTING, ABORTING -> !p.acknowledged;
            case ACTIVE, DELEGATING, DECIDING, ENDED -> false;
          };
      if (waited) {
        waitingOn.add(p.ref.name());
        retries += Math.max(0, p.attempts - 1);
        nextRetry = nextRetry == 0 ? p.nextRetryMillis : Math.min(nextRetry, p.nextRetryMillis);
      }
    }
    String waitingFor =
        switch (tx.phase()) {
          case ACTIVE, ENDED -> "";
          case PREPARING -> "votes from " + String.join(", ", waitingOn);
          case DELEGATING -> "the one-phase delegation to be durable";
          case ONE_PHASE -> "one-phase outcome from " + String.join(", ", waitingOn);
          case DECIDING ->
              tx.decisionUncertainReason.isEmpty()
                  ? "the decision to be durable"
                  : "the decision log (" + tx.decisionUncertainReason + ")";
          case COMMITTING, ABORTING ->
              waitingOn.isEmpty() ? "" : "acks from " + String.join(", ", waitingOn);
        };
    if (!alarms.isEmpty()) {
      waitingFor =
          "an operator: heuristic mixed outcome, decision "
              + tx.decision
              + " but "
              + String.join(", ", alarms)
              + (waitingFor.isEmpty() ? "" : "; and " + waitingFor);
    }
    if (waitingFor.isEmpty()) {
      return null;
    }
    if (tx.phase() == TxPhase.DECIDING) {
      retries = tx.decisionAttempts;
      nextRetry = tx.decisionUncertainReason.isEmpty() ? 0 : tx.decisionRetryMillis;
    }
    return new Blocking(
        tx.id, tx.phase().name(), tx.phaseSinceMillis, waitingFor, contacts, retries, nextRetry);
  }
}
