package io.decree.core;

/**
 * Exponential backoff without shared randomness: the jitter comes from a hash of the key and the
 * attempt, so a run replays exactly while different transactions still spread out.
 */
public record Backoff(long initialMillis, long maxMillis) {
  public Backoff {
    if (initialMillis <= 0 || maxMillis < initialMillis) {
      throw new IllegalArgumentException(
          "backoff needs 0 < initialMillis <= maxMillis, got " + initialMillis + ", " + maxMillis);
    }
  }

  /** Delay before retry number {@code attempt} (1-based), between half and all of the cap. */
  public long delayMillis(int attempt, long key) {
    int shift = Math.min(Math.max(attempt - 1, 0), 30);
    long ceiling = Math.min(maxMillis, initialMillis << shift);
    long mixed = (key * 0x9E3779B97F4A7C15L) ^ (attempt * 0xC2B2AE3D27D4EB4FL);
    long jitter = Math.floorMod(mixed ^ (mixed >>> 31), ceiling / 2 + 1);
    return ceiling - jitter;
  }
}
