package io.decree.coordinator;

import io.decree.coordinator.log.ClusterView;
import io.decree.coordinator.log.DecisionStatus;
import io.decree.coordinator.log.ReplicatedDecisionLog;
import io.decree.core.TxId;
import io.decree.core.coordinator.CoordinatorRecord;
import io.decree.core.coordinator.CoordinatorRecord.DecisionRecord;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * An in-memory replicated decision log whose leadership the test sets: first decision wins, appends
 * must carry the term this member leads, and while {@link #holdAppends} is on, appends wait until
 * the test releases them (to play a late answer to a deposed core).
 */
final class FakeReplicatedLog implements ReplicatedDecisionLog {
  private final Map<TxId, DecisionRecord> decisions = new LinkedHashMap<>();
  private final List<Consumer<Boolean>> listeners = new CopyOnWriteArrayList<>();
  final List<Long> appendTerms = new CopyOnWriteArrayList<>();
  final List<Runnable> held = new CopyOnWriteArrayList<>();
  volatile boolean holdAppends;
  private volatile long leaderTerm;
  private volatile long term;
  private volatile String leader;

  /** This member leads a new term; listeners hear {@code true}. */
  synchronized void lead() {
    term++;
    leaderTerm = term;
    leader = "n1";
    listeners.forEach(l -> l.accept(true));
  }

  /** Another member leads (or none, when {@code newLeader} is null); listeners hear false. */
  synchronized void follow(String newLeader) {
    boolean was = leaderTerm != 0;
    term++;
    leaderTerm = 0;
    leader = newLeader;
    if (was) {
      listeners.forEach(l -> l.accept(false));
    }
  }

  synchronized void putDecision(DecisionRecord decision) {
    decisions.putIfAbsent(decision.txId(), decision);
  }

  @Override
  public synchronized List<CoordinatorRecord> recover() {
    return new ArrayList<>(decisions.values());
  }

  @Override
  public CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision) {
    return appendDecision(decision, leaderTerm);
  }

  @Override
  public CompletableFuture<DecisionRecord> appendDecision(DecisionRecord decision, long term) {
    appendTerms.add(term);
    CompletableFuture<DecisionRecord> result = new CompletableFuture<>();
    Runnable apply =
        () -> {
          synchronized (this) {
            if (term != leaderTerm) {
              result.completeExceptionally(new IllegalStateException("not leading term " + term));
              return;
            }
            decisions.putIfAbsent(decision.txId(), decision);
            result.complete(decisions.get(decision.txId()));
          }
        };
    if (holdAppends) {
      held.add(() -> result.complete(decision)); // a late "durable" from the old term
    } else {
      apply.run();
    }
    return result;
  }

  @Override
  public CompletableFuture<Void> append(CoordinatorRecord record) {
    return append(record, leaderTerm);
  }

  @Override
  public CompletableFuture<Void> append(CoordinatorRecord record, long term) {
    if (record instanceof DecisionRecord d) {
      return appendDecision(d, term).thenApply(x -> null);
    }
    appendTerms.add(term);
    return CompletableFuture.completedFuture(null);
  }

  @Override
  public String memberId() {
    return "n1";
  }

  @Override
  public void onLeadershipChange(Consumer<Boolean> listener) {
    listeners.add(listener);
    if (leaderTerm != 0) {
      listener.accept(true);
    }
  }

  @Override
  public long leaderTerm() {
    return leaderTerm;
  }

  @Override
  public Optional<String> leaderId() {
    return Optional.ofNullable(leader);
  }

  /** What {@link #view()} reports as this member's last Raft log entry: term, index. */
  volatile long[] lastLog = {0, 0};

  /** Every request to replace a leader early (see {@link LeaderWatch}), as "leader@term". */
  final List<String> electionsAsked = new CopyOnWriteArrayList<>();

  @Override
  public long currentTerm() {
    return term;
  }

  @Override
  public boolean startElectionNow(String goneLeaderId, long term) {
    electionsAsked.add(goneLeaderId + "@" + term);
    return goneLeaderId.equals(leader) && term == this.term;
  }

  @Override
  public synchronized CompletableFuture<DecisionStatus> readDecision(TxId txId) {
    DecisionRecord d = decisions.get(txId);
    return CompletableFuture.completedFuture(
        new DecisionStatus(
            txId,
            d == null ? DecisionStatus.State.NONE : DecisionStatus.State.DECIDED,
            Optional.ofNullable(d),
            false,
            Optional.empty()));
  }

  @Override
  public ClusterView view() {
    return new ClusterView(
        "n1",
        leaderId(),
        term,
        leaderTerm != 0,
        List.of(new ClusterView.Member("n1", "127.0.0.1:1")),
        0,
        0,
        lastLog[0],
        lastLog[1]);
  }

  @Override
  public void addMember(String memberId, String raftAddress) {
    throw new UnsupportedOperationException();
  }

  @Override
  public void removeMember(String memberId) {
    throw new UnsupportedOperationException();
  }

  @Override
  public long takeSnapshot() {
    return 0;
  }

  @Override
  public void close() {}
}
