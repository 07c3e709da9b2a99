package io.decree.cluster;

import io.decree.cluster.ClusterUnavailableException.Reason;
import io.decree.coordinator.log.ClusterView;
import io.decree.coordinator.log.DecisionLog;
import io.decree.coordinator.log.DecisionState;
import io.decree.coordinator.log.DecisionStatus;
import io.decree.coordinator.log.ReplicatedDecisionLog;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The coordinator cluster's decision log: a {@link DecisionLog} replicated by Apache Ratis. Its
 * applied state ({@link DecisionStateMachine}) keeps the first decision per transaction, END flags,
 * one-phase delegations and the forget horizon; an append completes once its Raft entry is
 * committed (fsynced on a majority) and applied, with the decision that stands.
 *
 * <h2>Leadership</h2>
 *
 * Only the Raft leader runs a coordinator core. This log watches the member's role (Ratis events,
 * re-checked every {@value #ROLE_POLL_MILLIS} ms because Ratis does not report every step-down) and
 * calls {@link #onLeadershipChange} listeners on one thread, in order:
 *
 * <ul>
 *   <li>{@code true} once this member leads <em>and is ready</em>: it has applied its own term's
 *       first entry, hence every entry of earlier terms, so {@link #recover()} is the whole log.
 *   <li>{@code false} as soon as it no longer leads that term (stepped down, deposed, or re-elected
 *       in a later term: then {@code false} comes before the next {@code true}).
 * </ul>
 *
 * Appends carry the term they were made in; the state machine refuses a batch that reaches the log
 * in another term. So records from a core whose leadership ended can never slip in behind the new
 * leader's core, which was rebuilt from {@link #recover()} without them.
 *
 * <h2>Deadlines</h2>
 *
 * Every append completes within {@code appendTimeoutMillis}, every read within {@code
 * readTimeoutMillis}, else fails with {@link ClusterUnavailableException} ("no coordinator quorum:
 * ..."). A failed append may still become durable: the first-decision-wins rule makes retrying it
 * safe.
 */
public final class RatisDecisionLog implements ReplicatedDecisionLog {
  private static final Logger log = LoggerFactory.getLogger(RatisDecisionLog.class);

  static final long ROLE_POLL_MILLIS = 100;

  private final ClusterMember member;
  private final GroupCommitter committer;

  /** Append and read deadlines. */
  private final ScheduledExecutorService timer;

  /** Role checks and every listener call: one thread, so listeners see changes in order. */
  private final ScheduledExecutorService leadership;

  private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
  private final AtomicBoolean roleCheckQueued = new AtomicBoolean();

  /** The term this member leads and is ready in, 0 when it does not. Written on leadership only. */
  private volatile long leaderTerm;

  private RatisDecisionLog(ClusterMember member) {
    this.member = member;
    this.timer = singleThread("decree-cluster-deadlines-" + member.nodeId());
    this.leadership = singleThread("decree-cluster-leadership-" + member.nodeId());
    ClusterOptions o = member.options();
    this.committer =
        new GroupCommitter(
            member::submit,
            o.batchRecordsMax(),
            o.batchBytesMax(),
            o.queuedRecordsMax(),
            o.appendTimeoutMillis(),
            timer);
    member.stateMachine().onRoleEvent(this::queueRoleCheck);
    leadership.scheduleWithFixedDelay(
        this::checkRole, ROLE_POLL_MILLIS, ROLE_POLL_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Starts this node's cluster member and the log over it. */
  public static RatisDecisionLog start(ClusterOptions options) {
    return new RatisDecisionLog(ClusterMember.start(options));
  }

  private static ScheduledExecutorService singleThread(String name) {
    ScheduledThreadPoolExecutor executor =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name);
              t.setDaemon(true);
              return t;
            });
    executor.setRemoveOnCancelPolicy(true); // deadlines are cancelled by the thousand
    return executor;
  }

  // ---------------------------------------------------------------- DecisionLog

  /**
   * The records this replica's applied state implies, in the order {@code
   * CoordinatorCore.onRecover} takes: a decision per transaction, the ENDs, the pending one-phase
   * delegations, the horizon. Unlike the single-node log it is called on every leadership gain
   * (after {@code onLeadershipChange(true)}), on a fresh core each time; on a ready leader it is
   * the whole replicated log.
   */
  @Override
  public List<CoordinatorRecord> recover() {
    return member.stateMachine().recoveryRecords();
  }

  @Override
  public CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision) {
    return appendDecision(decision, leaderTerm);
  }

  @Override
  public CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision, long term) {
    return submit(decision, term)
        .thenApply(
            result -> {
              if (result.kind() == DecisionState.Kind.FORGOTTEN) {
                throw new IllegalStateException(
                    decision.txId()
                        + " is older than the forget horizon: its decision was forgotten and is"
                        + " not taken again");
              }
              return result.winner();
            });
  }

  @Override
  public CompletableFuture<Void> append(CoordinatorRecord record) {
    return append(record, leaderTerm);
  }

  @Override
  public CompletableFuture<Void> append(CoordinatorRecord record, long term) {
    if (record instanceof DecisionRecord decision) {
      return appendDecision(decision, term).thenApply(winner -> null);
    }
    return submit(record, term).thenApply(result -> null);
  }

  private CompletableFuture<DecisionState.Result> submit(CoordinatorRecord record, long term) {
    long leading = leaderTerm;
    if (leading == 0 || leading != term) {
      String known =
          member.leaderId().map(l -> " (leader: " + l + ")").orElse(" (no leader known)");
      return CompletableFuture.failedFuture(
          leading == 0
              ? new ClusterUnavailableException(
                  Reason.NOT_LEADER, member.nodeId() + " does not lead the cluster" + known)
              : new ClusterUnavailableException(
                  Reason.LEADERSHIP_CHANGED,
                  member.nodeId() + " leads term " + leading + ", not term " + term));
    }
    return committer.submit(term, Commands.Encoded.of(record));
  }

  /**
   * A linearizable status read: reflects every append acknowledged before it began. Any member can
   * serve it (Ratis forwards to the leader for the read index).
   */
  @Override
  public CompletableFuture<DecisionStatus> readDecision(TxId txId) {
    long timeoutMillis = member.options().readTimeoutMillis();
    CompletableFuture<DecisionStatus> status;
    try {
      status =
          member
              .readLinearizable(Commands.encodeRead(txId))
              .thenApply(bytes -> Commands.decodeStatus(txId, bytes));
    } catch (RuntimeException e) {
      status = CompletableFuture.failedFuture(e);
    }
    return status
        .orTimeout(timeoutMillis, TimeUnit.MILLISECONDS)
        .handle(
            (value, error) -> {
              if (error == null) {
                return value;
              }
              Throwable cause = unwrap(error);
              if (cause instanceof ClusterUnavailableException c) {
                throw c;
              }
              String why =
                  cause instanceof TimeoutException
                      ? "status of " + txId + " not confirmed within " + timeoutMillis + " ms"
                      : "status of " + txId + " not read: " + cause;
              throw new ClusterUnavailableException(Reason.NO_QUORUM, why, cause);
            });
  }

  private static Throwable unwrap(Throwable error) {
    return error instanceof CompletionException && error.getCause() != null
        ? error.getCause()
        : error;
  }

  // ---------------------------------------------------------------- leadership

  /**
   * Registers a listener for leadership changes; if this member leads now, it hears {@code true} at
   * once. Calls come on one thread, in order; a listener should hand work to its own thread.
   */
  @Override
  public void onLeadershipChange(Consumer<Boolean> listener) {
    leadership.execute(
        () -> {
          listeners.add(listener);
          if (leaderTerm != 0) {
            tell(listener, true);
          }
        });
  }

  /** Leads and is ready (see the class comment); appends are accepted only then. */
  public boolean isLeader() {
    return leaderTerm != 0;
  }

  /** The term this member leads, or 0. */
  @Override
  public long leaderTerm() {
    return leaderTerm;
  }

  private void queueRoleCheck() {
    if (roleCheckQueued.compareAndSet(false, true)) {
      try {
        leadership.execute(this::checkRole);
      } catch (java.util.concurrent.RejectedExecutionException closing) {
        roleCheckQueued.set(false);
      }
    }
  }

  private void checkRole() {
    roleCheckQueued.set(false);
    long term;
    boolean ready;
    try {
      term = member.currentTerm();
      ready = member.isAlive() && member.isLeaderReady();
      if (term != member.currentTerm()) {
        queueRoleCheck(); // the term moved while we looked; look again
        return;
      }
    } catch (RuntimeException e) {
      // The division is gone (server closed): it leads nothing.
      term = 0;
      ready = false;
    }
    long led = leaderTerm;
    if (led != 0 && (!ready || term != led)) {
      leaderTerm = 0;
      log.info("{}: no longer leads term {}", member.nodeId(), led);
      committer.failQueued(
          new ClusterUnavailableException(
              Reason.LEADERSHIP_CHANGED, member.nodeId() + " stopped leading term " + led));
      listeners.forEach(l -> tell(l, false));
    }
    if (leaderTerm == 0 && ready) {
      // Each term starts with a fresh client: one Ratis closed in an earlier term (a request that
      // ran out of retries) would refuse every append of this one.
      member.renewClient();
      leaderTerm = term;
      log.info("{}: leads term {} and is ready", member.nodeId(), term);
      listeners.forEach(l -> tell(l, true));
    }
  }

  private void tell(Consumer<Boolean> listener, boolean leading) {
    try {
      listener.accept(leading);
    } catch (RuntimeException e) {
      // A broken listener must not stop leadership tracking for the others.
      log.error("{}: leadership listener failed on {}", member.nodeId(), leading, e);
    }
  }

  // ---------------------------------------------------------------- membership and admin

  /** See {@link ClusterMember#addMember}. Blocks up to the membership timeout. */
  @Override
  public void addMember(String peerId, String address) {
    member.addMember(peerId, address);
  }

  /** See {@link ClusterMember#removeMember}. Blocks up to the membership timeout. */
  @Override
  public void removeMember(String peerId) {
    member.removeMember(peerId);
  }

  @Override
  public long takeSnapshot() {
    return member.takeSnapshot();
  }

  @Override
  public String memberId() {
    return member.nodeId();
  }

  @Override
  public Optional<String> leaderId() {
    return member.leaderId();
  }

  @Override
  public long currentTerm() {
    return member.currentTerm();
  }

  @Override
  public boolean startElectionNow(String goneLeaderId, long term) {
    return member.startElectionNow(goneLeaderId, term);
  }

  @Override
  public ClusterView view() {
    long[] lastLog = member.lastLogEntry();
    long term;
    try {
      term = member.currentTerm();
    } catch (RuntimeException closed) {
      term = 0;
    }
    return new ClusterView(
        member.nodeId(),
        member.leaderId(),
        term,
        isLeader(),
        member.currentMembers().stream()
            .map(p -> new ClusterView.Member(p.id(), p.host() + ":" + p.port()))
            .toList(),
        member.lastAppliedIndex(),
        member.logStartIndex(),
        lastLog[0],
        lastLog[1]);
  }

  public ClusterMember member() {
    return member;
  }

  /** Raft entries this log sent and the records they carried (group commit at work). */
  public long batchesSent() {
    return committer.batchesSent();
  }

  public long recordsSent() {
    return committer.recordsSent();
  }

  @Override
  public void close() {
    leadership.shutdownNow();
    committer.close();
    member.close();
    timer.shutdownNow();
    try {
      leadership.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    leaderTerm = 0;
  }
}
