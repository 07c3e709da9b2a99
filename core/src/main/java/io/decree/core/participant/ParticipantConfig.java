package io.decree.core.participant;

import io.decree.core.Backoff;

/**
 * The participant core's limits and timings.
 *
 * @param branchesMax open branches at once; new work is refused beyond it
 * @param activeTimeoutMillis an ACTIVE branch with no prepare by then is aborted (its client
 *     vanished); nobody holds its YES, so this is safe
 * @param inquiryAfterMillis how long a prepared branch waits for the decision before asking
 * @param inquiry backoff between questions to the coordinator and peers
 * @param peerQueryEvery while the coordinator does not answer, ask the peers on every n-th attempt
 *     (cooperative termination)
 * @param retentionMillis how long a finished branch is remembered for duplicate messages
 * @param rememberedMax finished branches remembered at most; beyond it the oldest are forgotten
 *     before their retention ends (memory and checkpoints stay bounded at any rate)
 * @param unsafe TEST ONLY: protocol rules to break, so tests can prove the simulator and the
 *     Jepsen-style checkers catch it. {@link Unsafe#NONE} in production.
 */
public record ParticipantConfig(
    int branchesMax,
    long activeTimeoutMillis,
    long inquiryAfterMillis,
    Backoff inquiry,
    int peerQueryEvery,
    long retentionMillis,
    int rememberedMax,
    Unsafe unsafe) {

  /**
   * TEST ONLY: rules a participant breaks on purpose.
   *
   * @param voteBeforeDurable sends YES before the vote is durable (breaks "persist before send")
   * @param commitOnAbort a prepared branch told ABORT commits instead (breaks agreement)
   */
  public record Unsafe(boolean voteBeforeDurable, boolean commitOnAbort) {
    public static final Unsafe NONE = new Unsafe(false, false);

    public boolean any() {
      return voteBeforeDurable || commitOnAbort;
    }
  }

  public ParticipantConfig {
    if (branchesMax <= 0
        || activeTimeoutMillis <= 0
        || inquiryAfterMillis < 0
        || inquiry == null
        || peerQueryEvery <= 0
        || retentionMillis < 0
        || rememberedMax <= 0
        || unsafe == null) {
      throw new IllegalArgumentException(
          "participant config: branchesMax, activeTimeoutMillis, peerQueryEvery and rememberedMax"
              + " must be > 0, inquiry backoff and unsafe set, inquiryAfterMillis and"
              + " retentionMillis >= 0");
    }
  }

  public static ParticipantConfig defaults() {
    return new ParticipantConfig(
        100_000, 60_000, 2_000, new Backoff(200, 10_000), 1, 600_000, 100_000, Unsafe.NONE);
  }

  public ParticipantConfig withTimings(
      long activeTimeoutMillis, long inquiryAfterMillis, Backoff inquiry, long retentionMillis) {
    return new ParticipantConfig(
        branchesMax,
        activeTimeoutMillis,
        inquiryAfterMillis,
        inquiry,
        peerQueryEvery,
        retentionMillis,
        rememberedMax,
        unsafe);
  }

  public ParticipantConfig withRememberedMax(int rememberedMax) {
    return new ParticipantConfig(
        branchesMax,
        activeTimeoutMillis,
        inquiryAfterMillis,
        inquiry,
        peerQueryEvery,
        retentionMillis,
        rememberedMax,
        unsafe);
  }

  public ParticipantConfig withUnsafe(Unsafe unsafe) {
    return new ParticipantConfig(
        branchesMax,
        activeTimeoutMillis,
        inquiryAfterMillis,
        inquiry,
        peerQueryEvery,
        retentionMillis,
        rememberedMax,
        unsafe);
  }
}
