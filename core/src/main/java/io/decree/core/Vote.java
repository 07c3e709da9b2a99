package io.decree.core;

/** A participant's phase-1 answer. A YES is durable at the participant before it is sent. */
public enum Vote {
  YES,
  NO,
  READ_ONLY
}
