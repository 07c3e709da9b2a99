package io.decree.cli.bench;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Locale;

/** Parses the short durations people type on a command line: 500ms, 20s, 2m, or ISO (PT20S). */
public final class Durations {
  private Durations() {}

  /**
   * @throws IllegalArgumentException naming the accepted forms
   */
  public static Duration parse(String text) {
    String s = text.trim().toLowerCase(Locale.ROOT);
    try {
      if (s.startsWith("pt")) {
        return Duration.parse(s.toUpperCase(Locale.ROOT));
      }
      if (s.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(s.substring(0, s.length() - 2)));
      }
      if (s.endsWith("s")) {
        return Duration.ofMillis(
            Math.round(Double.parseDouble(s.substring(0, s.length() - 1)) * 1e3));
      }
      if (s.endsWith("m")) {
        return Duration.ofSeconds(Long.parseLong(s.substring(0, s.length() - 1)) * 60);
      }
    } catch (NumberFormatException | DateTimeParseException e) {
      // Falls through to the one message below.
    }
    throw new IllegalArgumentException(
        "not a duration: '" + text + "' (use e.g. 500ms, 20s, 2m or PT20S)");
  }

  /** A short human form: 1.5s, 250ms. */
  public static String format(Duration d) {
    long millis = d.toMillis();
    return millis % 1000 == 0
        ? millis / 1000 + "s"
        : millis < 1000 ? millis + "ms" : millis / 1e3 + "s";
  }
}
