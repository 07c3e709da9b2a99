package io.decree.cli.admin;

import io.decree.proto.v1.BlockingStatus;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.PartyContact;
import java.io.PrintWriter;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;

/** Human output: times with their age, and aligned tables. */
final class Text {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss'Z'").withZone(ZoneOffset.UTC);

  private Text() {}

  /** "2025-01-02 03:04:05Z (2m 3s ago)", or "never" for 0. */
  static String at(long unixMillis, long nowMillis) {
    if (unixMillis <= 0) {
      return "never";
    }
    return TIME.format(Instant.ofEpochMilli(unixMillis))
        + " ("
        + relative(unixMillis, nowMillis)
        + ")";
  }

  static String relative(long unixMillis, long nowMillis) {
    if (unixMillis <= 0) {
      return "never";
    }
    long delta = nowMillis - unixMillis;
    return delta >= 0 ? age(delta) + " ago" : "in " + age(-delta);
  }

  /** A compact duration: 850ms, 12s, 3m 4s, 2h 5m, 3d 4h. */
  static String age(long millis) {
    if (millis < 1_000) {
      return millis + "ms";
    }
    long s = millis / 1_000;
    if (s < 60) {
      return s + "s";
    }
    long m = s / 60;
    if (m < 60) {
      return m + "m " + (s % 60) + "s";
    }
    long h = m / 60;
    if (h < 24) {
      return h + "h " + (m % 60) + "m";
    }
    return (h / 24) + "d " + (h % 24) + "h";
  }

  static String outcome(Outcome outcome) {
    return switch (outcome) {
      case COMMITTED -> "COMMITTED";
      case ABORTED -> "ABORTED";
      case UNKNOWN -> "UNKNOWN";
      case OUTCOME_UNSPECIFIED, UNRECOGNIZED -> "-";
    };
  }

  static String orDash(String s) {
    return s == null || s.isEmpty() ? "-" : s;
  }

  /** Prints the blocking evidence: what it waits for, since when, retries, each party's contact. */
  static void blocking(PrintWriter out, String indent, BlockingStatus b, long now) {
    out.println(indent + "waiting for: " + b.getWaitingFor());
    out.println(indent + "since:       " + at(b.getSinceUnixMillis(), now));
    out.println(
        indent
            + "retries:     "
            + b.getRetries()
            + (b.getNextRetryUnixMillis() > 0
                ? ", next retry " + at(b.getNextRetryUnixMillis(), now)
                : ", no retry scheduled"));
    if (b.getContactsCount() > 0) {
      Table t = new Table("PARTY", "LAST SUCCESS", "LAST ATTEMPT", "LAST ERROR");
      for (PartyContact c : b.getContactsList()) {
        t.row(
            c.getParty(),
            relative(c.getLastSuccessUnixMillis(), now),
            relative(c.getLastAttemptUnixMillis(), now),
            orDash(c.getLastError()));
      }
      t.print(out, indent);
    }
  }

  /** A table with left-aligned columns, two spaces apart. */
  static final class Table {
    private final String[] header;
    private final List<String[]> rows = new ArrayList<>();

    Table(String... header) {
      this.header = header;
    }

    Table row(String... cells) {
      rows.add(cells);
      return this;
    }

    boolean isEmpty() {
      return rows.isEmpty();
    }

    void print(PrintWriter out, String indent) {
      int[] width = new int[header.length];
      for (int i = 0; i < header.length; i++) {
        width[i] = header[i].length();
      }
      for (String[] row : rows) {
        for (int i = 0; i < row.length; i++) {
          width[i] = Math.max(width[i], row[i].length());
        }
      }
      line(out, indent, header, width);
      for (String[] row : rows) {
        line(out, indent, row, width);
      }
    }

    private static void line(PrintWriter out, String indent, String[] cells, int[] width) {
      StringBuilder b = new StringBuilder(indent);
      for (int i = 0; i < cells.length; i++) {
        b.append(cells[i]);
        if (i < cells.length - 1) {
          b.append(" ".repeat(width[i] - cells[i].length() + 2));
        }
      }
      out.println(b.toString().stripTrailing());
    }
  }
}
