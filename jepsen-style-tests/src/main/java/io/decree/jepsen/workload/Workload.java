package io.decree.jepsen.workload;

import java.util.List;
import java.util.Map;

/** What the clients do, and what the data looks like before they start. */
public interface Workload {
  String name();

  /** Per participant (p1, p2, ...), the keys it opens with. */
  List<Map<String, Long>> openingAccounts(int participants);

  /** The bank's total, or -1 when the workload is not the bank. */
  long bankTotal();

  /** One operation by one client, recorded in the history. */
  void step(Session session, List<String> participants);

  static Workload named(String name) {
    return switch (name) {
      case "bank" -> new BankWorkload();
      case "atomic" -> new AtomicWriteWorkload();
      default -> throw new IllegalArgumentException("workload is bank or atomic, not " + name);
    };
  }
}
