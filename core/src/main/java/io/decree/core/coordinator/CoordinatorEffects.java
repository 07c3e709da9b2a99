package io.decree.core.coordinator;

import io.decree.core.Send;
import java.util.ArrayList;
import java.util.List;

/**
 * What the driver must do after feeding the core: append (and sync) the records, send the messages,
 * complete the calls. The core emits a message or reply that depends on a record only after the
 * driver reported that record durable, so the three lists can be carried out in any order.
 */
public final class CoordinatorEffects {
  /** A reply to the call the driver registered under {@code callId}. */
  public record Reply(long callId, ClientReply body) {}

  private List<CoordinatorRecord> appends = new ArrayList<>();
  private List<Send> sends = new ArrayList<>();
  private List<Reply> replies = new ArrayList<>();

  void append(CoordinatorRecord record) {
    appends.add(record);
  }

  void send(Send send) {
    sends.add(send);
  }

  void reply(long callId, ClientReply body) {
    replies.add(new Reply(callId, body));
  }

  public List<CoordinatorRecord> appends() {
    return appends;
  }

  public List<Send> sends() {
    return sends;
  }

  public List<Reply> replies() {
    return replies;
  }

  public boolean isEmpty() {
    return appends.isEmpty() && sends.isEmpty() && replies.isEmpty();
  }

  /** Hands the accumulated effects over and starts a fresh batch. */
  CoordinatorEffects drain() {
    CoordinatorEffects taken = new CoordinatorEffects();
    taken.appends = appends;
    taken.sends = sends;
    taken.replies = replies;
    appends = new ArrayList<>();
    sends = new ArrayList<>();
    replies = new ArrayList<>();
    return taken;
  }
}
