package io.decree.jepsen.workload;

import com.google.gson.JsonObject;
import io.decree.jepsen.history.History;
import io.decree.jepsen.history.Op;
import io.decree.node.grpc.Channels;
import io.decree.participant.DecreeClient;
import io.decree.participant.DecreeContext;
import io.decree.proto.examples.bank.v1.AccountsGrpc;
import io.grpc.StatusRuntimeException;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/**
 * One client worker: its own coordinator client and channels, its own random source, and the
 * history it records every operation in (invoke, then ok / fail / info).
 */
public final class Session implements AutoCloseable {
  /** A transaction the coordinator aborts if it is not decided by then. */
  static final Duration TX_TIMEOUT = Duration.ofSeconds(8);

  static final long CALL_DEADLINE_MILLIS = 3_000;

  static final long BACKOFF_MILLIS = 100;

  private final String process;
  private final DecreeClient decree;
  private final Channels channels = new Channels();
  private final Function<String, String> participantAddress;
  private final History history;
  private final Random random;
  private long transactions;

  public Session(
      String process,
      List<String> coordinatorAddresses,
      Function<String, String> participantAddress,
      History history,
      long seed) {
    this.process = process;
    this.decree =
        DecreeClient.create(coordinatorAddresses, Duration.ofSeconds(4), "jepsen-" + process);
    this.participantAddress = participantAddress;
    this.history = history;
    this.random = new Random(seed);
  }

  public Random random() {
    return random;
  }

  public String process() {
    return process;
  }

  AccountsGrpc.AccountsBlockingStub accounts(String participant) {
    return AccountsGrpc.newBlockingStub(channels.get(participantAddress.apply(participant)))
        .withInterceptors(DecreeContext.clientInterceptor())
        .withDeadlineAfter(CALL_DEADLINE_MILLIS, TimeUnit.MILLISECONDS);
  }

  /** Business calls inside a transaction; what they return goes into the ok line. */
  interface Work {
    JsonObject run(String txId);
  }

  /**
   * Runs one transaction and records it: invoke; then ok when the coordinator said COMMITTED, fail
   * when it definitely did not happen (begin refused, a business call failed before commit was
   * asked for, ABORTED), info when the answer was UNKNOWN.
   */
  JsonObject transaction(String f, JsonObject value, Work work) {
    JsonObject result = attempt(f, value, work);
    if (result == null) {
      // A failed or indeterminate operation usually means a fault: don't spin against it.
      try {
        Thread.sleep(BACKOFF_MILLIS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    return result;
  }

  private JsonObject attempt(String f, JsonObject value, Work work) {
    history.add(process, Op.INVOKE, f, value, null, null);
    String tx;
    try {
      tx = decree.begin(TX_TIMEOUT).txId();
    } catch (RuntimeException e) {
      // No transaction id: nothing was written under it, nothing can commit.
      history.add(process, Op.FAIL, f, value, null, "begin: " + e.getMessage());
      return null;
    }
    JsonObject result;
    try {
      JsonObject[] out = new JsonObject[1];
      // Both ways of joining, alternately: each participant enlisting before its work, and
      // enlisting on the way back (the participants named by the commit).
      Runnable body = () -> out[0] = work.run(tx);
      if (++transactions % 2 == 0) {
        DecreeContext.run(tx, body);
      } else {
        decree.inTransaction(tx, body);
      }
      result = out[0];
    } catch (StatusRuntimeException e) {
      // Commit was never asked for, so no COMMIT can be decided: a definite failure whatever the
      // rollback answers (it only tidies up sooner than the transaction's timeout would).
      String rollback = decree.rollback(tx).outcome().toString();
      history.add(
          process,
          Op.FAIL,
          f,
          value,
          tx,
          "business call: "
              + e.getStatus().getCode()
              + " "
              + e.getStatus().getDescription()
              + "; rollback "
              + rollback);
      return null;
    }
    DecreeClient.Result outcome;
    try {
      outcome = decree.commit(tx);
    } catch (RuntimeException e) {
      history.add(process, Op.INFO, f, value, tx, "commit: " + e.getMessage());
      return null;
    }
    switch (outcome.outcome()) {
      case COMMITTED -> {
        history.add(process, Op.OK, f, result == null ? value : result, tx, null);
        return result == null ? value : result;
      }
      case ABORTED -> history.add(process, Op.FAIL, f, value, tx, "ABORTED " + outcome.reason());
      case UNKNOWN -> history.add(process, Op.INFO, f, value, tx, "UNKNOWN " + outcome.reason());
    }
    return null;
  }

  @Override
  public void close() {
    decree.close();
    channels.close();
  }
}
