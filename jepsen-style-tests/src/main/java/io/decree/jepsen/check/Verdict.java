package io.decree.jepsen.check;

import java.util.List;

/**
 * One checker's judgement.
 *
 * @param checker its name (agreement, durability, ...)
 * @param summary one line for people
 * @param checked how many facts it looked at (transactions, reads, observations)
 * @param offending the transactions (or reads) that break the rule, each with the evidence; at most
 *     {@link #OFFENDING_MAX} are kept
 */
public record Verdict(
    String checker, Validity validity, String summary, long checked, List<String> offending) {
  public static final int OFFENDING_MAX = 200;

  public Verdict {
    offending = List.copyOf(offending.subList(0, Math.min(offending.size(), OFFENDING_MAX)));
  }

  static Verdict of(String checker, long checked, List<String> offending, String what) {
    if (!offending.isEmpty()) {
      return new Verdict(
          checker,
          Validity.INVALID,
          offending.size() + " of " + checked + " " + what + " break the rule",
          checked,
          offending);
    }
    if (checked == 0) {
      return new Verdict(checker, Validity.UNKNOWN, "nothing to check: no " + what, 0, List.of());
    }
    return new Verdict(
        checker, Validity.VALID, checked + " " + what + " checked", checked, List.of());
  }

  static Verdict unknown(String checker, String why) {
    return new Verdict(checker, Validity.UNKNOWN, why, 0, List.of());
  }
}
