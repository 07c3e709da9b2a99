package io.decree.core.participant;

import io.decree.core.Send;
import java.util.ArrayList;
import java.util.List;

/**
 * What the driver must do after feeding the participant core. A message that depends on a record is
 * emitted only after that record was reported durable, so the lists can run in any order.
 */
public final class ParticipantEffects {
  private List<ParticipantRecord> appends = new ArrayList<>();
  private List<Send> sends = new ArrayList<>();
  private List<ResourceCall> resourceCalls = new ArrayList<>();
  private List<OperatorReply> operatorReplies = new ArrayList<>();

  void append(ParticipantRecord record) {
    appends.add(record);
  }

  void send(Send send) {
    sends.add(send);
  }

  void call(ResourceCall call) {
    resourceCalls.add(call);
  }

  void reply(OperatorReply reply) {
    operatorReplies.add(reply);
  }

  public List<ParticipantRecord> appends() {
    return appends;
  }

  public List<Send> sends() {
    return sends;
  }

  public List<ResourceCall> resourceCalls() {
    return resourceCalls;
  }

  /** Answers to operators' forced decisions ({@link ParticipantCore#onOperatorDecision}). */
  public List<OperatorReply> operatorReplies() {
    return operatorReplies;
  }

  public boolean isEmpty() {
    return appends.isEmpty()
        && sends.isEmpty()
        && resourceCalls.isEmpty()
        && operatorReplies.isEmpty();
  }

  ParticipantEffects drain() {
    ParticipantEffects taken = new ParticipantEffects();
    taken.appends = appends;
    taken.sends = sends;
    taken.resourceCalls = resourceCalls;
    taken.operatorReplies = operatorReplies;
    appends = new ArrayList<>();
    sends = new ArrayList<>();
    resourceCalls = new ArrayList<>();
    operatorReplies = new ArrayList<>();
    return taken;
  }
}
