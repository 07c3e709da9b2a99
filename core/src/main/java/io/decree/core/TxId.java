package io.decree.core;

/**
 * A global transaction id, ordered by creation time so a node can tell that an id is older than
 * anything it may have forgotten. Text form: {@code <created millis, 12 hex>-<issuer, 8 hex>-<seq,
 * 8+ hex>}; the fixed-width fields sort as text in the same order as the values.
 *
 * @param createdAtMillis wall-clock millis at {@code begin}, as seen by the issuing coordinator
 * @param issuer the issuing coordinator's incarnation, so two incarnations never clash
 * @param sequence a counter within the incarnation
 */
public record TxId(long createdAtMillis, int issuer, long sequence) implements Comparable<TxId> {

  /**
   * How far the clock of the coordinator that stamps an id may run ahead of another node's: the
   * coordinator's default bound on ids from the future, and the margin a participant allows after
   * its restart.
   */
  public static final long CLOCK_SKEW_MAX_MILLIS = 60_000;

  /** Upper bound on accepted text, so malformed input is rejected before any parsing. */
  public static final int MAX_TEXT_LENGTH = 12 + 1 + 8 + 1 + 16;

  public TxId {
    if (createdAtMillis < 0 || createdAtMillis > 0xFFFF_FFFF_FFFFL) {
      throw new IllegalArgumentException("createdAtMillis out of range: " + createdAtMillis);
    }
    if (sequence < 0) {
      throw new IllegalArgumentException("sequence must be >= 0: " + sequence);
    }
  }

  /**
   * Parses the text form. Hand-rolled (no regular expression, no split): every message carries an
   * id, so this runs several times per transaction.
   *
   * @throws IllegalArgumentException with a message naming the bad input
   */
  public static TxId parse(String text) {
    if (text == null || text.isEmpty()) {
      throw new IllegalArgumentException("transaction id is missing");
    }
    int length = text.length();
    if (length < MIN_TEXT_LENGTH || length > MAX_TEXT_LENGTH) {
      throw malformed(text);
    }
    for (int i = 0; i < length; i++) {
      char c = text.charAt(i);
      boolean dash = i == CREATED_DIGITS || i == SEQUENCE_START - 1;
      if (dash ? c != '-' : !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        throw malformed(text);
      }
    }
    return new TxId(
        hex(text, 0, CREATED_DIGITS),
        (int) hex(text, CREATED_DIGITS + 1, SEQUENCE_START - 1),
        hex(text, SEQUENCE_START, length));
  }

  private static final int CREATED_DIGITS = 12;
  private static final int SEQUENCE_START = CREATED_DIGITS + 1 + 8 + 1;
  private static final int MIN_TEXT_LENGTH = SEQUENCE_START + 8;

  /** The value of the lowercase hex digits {@code [from, to)}, already checked. */
  private static long hex(String text, int from, int to) {
    long value = 0;
    for (int i = from; i < to; i++) {
      char c = text.charAt(i);
      value = (value << 4) | (c <= '9' ? c - '0' : c - 'a' + 10);
    }
    return value;
  }

  private static IllegalArgumentException malformed(String text) {
    String shown = text.length() > 40 ? text.substring(0, 40) + "..." : text;
    return new IllegalArgumentException(
        "malformed transaction id '" + shown + "' (expected like 018f2a3b4c5d-0000abcd-00000001)");
  }

  /** The smallest id created at {@code createdAtMillis}: a bound for "created before" ranges. */
  public static TxId firstCreatedAt(long createdAtMillis) {
    return new TxId(createdAtMillis, 0, 0);
  }

  @Override
  public int compareTo(TxId other) {
    int byTime = Long.compare(createdAtMillis, other.createdAtMillis);
    if (byTime != 0) {
      return byTime;
    }
    int byIssuer = Integer.compareUnsigned(issuer, other.issuer);
    return byIssuer != 0 ? byIssuer : Long.compare(sequence, other.sequence);
  }

  /** Hand-rolled: ids are printed on every message, and String.format is slow on hot paths. */
  @Override
  public String toString() {
    StringBuilder text = new StringBuilder(MAX_TEXT_LENGTH);
    appendHex(text, createdAtMillis, 12);
    text.append('-');
    appendHex(text, Integer.toUnsignedLong(issuer), 8);
    text.append('-');
    appendHex(text, sequence, 8);
    return text.toString();
  }

  private static void appendHex(StringBuilder text, long value, int minDigits) {
    String hex = Long.toHexString(value);
    for (int i = hex.length(); i < minDigits; i++) {
      text.append('0');
    }
    text.append(hex);
  }
}
