package io.decree.jepsen.check;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import io.decree.jepsen.check.Txns.Completed;
import io.decree.jepsen.history.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * The checkers: small pure functions from {@link RunFacts} to a {@link Verdict}. Each says VALID,
 * INVALID with the offending transactions, or UNKNOWN when the run gave it nothing to judge.
 */
public final class Checkers {
  /** A prepared branch must have reported itself blocked this long after quorum was lost. */
  public static final long BLOCKING_GRACE_NANOS = 3_000_000_000L;

  private Checkers() {}

  /** Every checker that applies to the run's workload, in a fixed order. */
  public static List<Verdict> all(RunFacts facts) {
    List<Verdict> out = new ArrayList<>();
    out.add(agreement(facts));
    out.add(durability(facts));
    out.add(honesty(facts));
    out.add(termination(facts));
    out.add(blocking(facts));
    if (facts.bankTotal() >= 0) {
      out.add(bank(facts));
    } else {
      out.add(atomic(facts));
    }
    return out;
  }

  public static Validity overall(List<Verdict> verdicts) {
    Validity v = Validity.VALID;
    for (Verdict verdict : verdicts) {
      v = v.and(verdict.validity());
    }
    return v;
  }

  // ---------------------------------------------------------------- agreement

  /**
   * No transaction committed at one participant and aborted at another, and none where a
   * participant applied the opposite of the decision the coordinator logged (participants' logs and
   * the coordinator's). The second matters because a participant that aborted before voting keeps
   * no record: a branch committed against an ABORT can then have no aborted peer to be compared
   * with.
   */
  public static Verdict agreement(RunFacts facts) {
    if (facts.branchStates() == null) {
      return Verdict.unknown("agreement", "the participants' branch states could not be read");
    }
    Map<String, Map<String, String>> byTx = new TreeMap<>();
    facts
        .branchStates()
        .forEach(
            (participant, states) ->
                states.forEach(
                    (tx, state) ->
                        byTx.computeIfAbsent(tx, t -> new TreeMap<>()).put(participant, state)));
    Map<String, String> decisions = facts.decisions();
    List<String> offending = new ArrayList<>();
    long checked = 0;
    for (var e : byTx.entrySet()) {
      String decided = decisions.get(e.getKey());
      if (e.getValue().size() < 2 && decided == null) {
        continue;
      }
      checked++;
      boolean committed = e.getValue().containsValue("COMMITTED");
      boolean aborted = e.getValue().containsValue("ABORTED") || "ABORTED".equals(decided);
      committed |= "COMMITTED".equals(decided);
      if (committed && aborted) {
        offending.add(
            "tx="
                + e.getKey()
                + " branches "
                + e.getValue()
                + (decided == null ? "" : ", coordinator decided " + decided));
      }
    }
    return Verdict.of(
        "agreement", checked, offending, "transactions with two branches or a logged decision");
  }

  // ---------------------------------------------------------------- durability

  /** Every write the client saw committed (ok) is committed everywhere it wrote. */
  public static Verdict durability(RunFacts facts) {
    List<String> offending = new ArrayList<>();
    long checked = 0;
    for (Completed c : Txns.pair(facts.history())) {
      if (!Txns.isWrite(c) || !c.type().equals(Op.OK)) {
        continue;
      }
      boolean judged = false;
      List<String> problems = new ArrayList<>();
      if (facts.branchStates() != null) {
        judged = true;
        for (String p : c.participants()) {
          String state = stateAt(facts, p, c.tx());
          if (state == null || state.equals("ABORTED")) {
            problems.add(p + " " + (state == null ? "has no record of it" : "ABORTED"));
          }
        }
      }
      if (facts.bankTotal() < 0 && facts.finalRead() != null) {
        judged = true;
        Map<String, Boolean> present = presence(facts, c);
        present.forEach(
            (p, there) -> {
              if (!there) {
                problems.add(p + " lacks its write");
              }
            });
      }
      if (judged) {
        checked++;
      }
      if (!problems.isEmpty()) {
        offending.add(c.describe() + ": " + String.join(", ", problems));
      }
    }
    if (facts.branchStates() == null && (facts.bankTotal() >= 0 || facts.finalRead() == null)) {
      return Verdict.unknown("durability", "neither branch states nor a final read to check");
    }
    return Verdict.of("durability", checked, offending, "acknowledged (ok) writes");
  }

  // ---------------------------------------------------------------- honesty

  /** Every write the client saw fail is absent; an indeterminate (info) one is all or nothing. */
  public static Verdict honesty(RunFacts facts) {
    List<String> offending = new ArrayList<>();
    long checked = 0;
    boolean canJudge =
        facts.branchStates() != null || (facts.bankTotal() < 0 && facts.finalRead() != null);
    if (!canJudge) {
      return Verdict.unknown("honesty", "neither branch states nor a final read to check");
    }
    for (Completed c : Txns.pair(facts.history())) {
      if (!Txns.isWrite(c) || c.type().equals(Op.OK) || c.tx() == null) {
        continue;
      }
      checked++;
      boolean failed = c.type().equals(Op.FAIL);
      List<String> problems = new ArrayList<>();
      if (facts.branchStates() != null && failed) {
        for (String p : c.participants()) {
          if ("COMMITTED".equals(stateAt(facts, p, c.tx()))) {
            problems.add(p + " COMMITTED");
          }
        }
      }
      if (facts.bankTotal() < 0 && facts.finalRead() != null) {
        Map<String, Boolean> present = presence(facts, c);
        long there = present.values().stream().filter(b -> b).count();
        if (failed && there > 0) {
          problems.add("present at " + keysWhere(present, true));
        } else if (!failed && there > 0 && there < present.size()) {
          problems.add(
              "partial: present at "
                  + keysWhere(present, true)
                  + ", absent at "
                  + keysWhere(present, false));
        }
      }
      if (!problems.isEmpty()) {
        offending.add(c.describe() + ": " + String.join(", ", problems));
      }
    }
    return Verdict.of("honesty", checked, offending, "failed or indeterminate writes");
  }

  // ---------------------------------------------------------------- termination

  /** Nothing is left in doubt after the recovery window. */
  public static Verdict termination(RunFacts facts) {
    if (facts.inDoubtAfterRecovery() == null) {
      return Verdict.unknown("termination", "the participants could not be asked");
    }
    List<String> offending = new ArrayList<>();
    facts
        .inDoubtAfterRecovery()
        .forEach(
            (p, branches) -> {
              if (branches == null) {
                offending.add(p + ": could not be asked after the recovery window");
              } else {
                branches.forEach(b -> offending.add(p + ": in doubt " + b));
              }
            });
    long checked = facts.inDoubtAfterRecovery().size();
    if (!offending.isEmpty()) {
      return new Verdict(
          "termination",
          Validity.INVALID,
          offending.size() + " branch(es) still in doubt after the recovery window",
          checked,
          offending);
    }
    return Verdict.of("termination", checked, offending, "participants with nothing in doubt");
  }

  // ---------------------------------------------------------------- blocking

  /** A window during which some participants could reach no coordinator quorum. */
  record Window(String id, long startNanos, long stopNanos, Set<String> participants) {}

  /**
   * While a participant could reach no coordinator quorum (the nemesis says which, per fault), each
   * branch it held prepared (in doubt) reported itself blocked, with what it waits for. Judged on
   * the monitor's observations made at least {@link #BLOCKING_GRACE_NANOS} into such a window.
   */
  public static Verdict blocking(RunFacts facts) {
    List<Window> windows = windows(facts.history());
    if (windows.isEmpty()) {
      return Verdict.unknown(
          "blocking", "no period without a reachable coordinator quorum in this run");
    }
    List<String> offending = new ArrayList<>();
    long checked = 0;
    for (Op op : facts.history()) {
      if (!op.type().equals(Op.OBSERVE) || !op.process().equals("monitor")) {
        continue;
      }
      String p = op.value().get("participant").getAsString();
      boolean inWindow = false;
      for (Window w : windows) {
        if (w.participants().contains(p)
            && op.timeNanos() >= w.startNanos() + BLOCKING_GRACE_NANOS
            && op.timeNanos() <= w.stopNanos()) {
          inWindow = true;
          break;
        }
      }
      if (!inWindow) {
        continue;
      }
      for (JsonElement e : op.value().getAsJsonArray("branches")) {
        JsonObject b = e.getAsJsonObject();
        if (!b.get("state").getAsString().equals("PREPARED")) {
          continue;
        }
        checked++;
        boolean blocked = b.has("blocked") && b.get("blocked").getAsBoolean();
        String waitingFor = b.has("waitingFor") ? b.get("waitingFor").getAsString() : "";
        if (!blocked || waitingFor.isBlank()) {
          offending.add(
              String.format(
                  "%s at %.1fs: tx=%s PREPARED but %s",
                  p,
                  op.timeSeconds(),
                  b.get("tx").getAsString(),
                  blocked ? "no reason given" : "not reported blocked"));
        }
      }
    }
    return Verdict.of(
        "blocking", checked, offending, "observations of prepared branches without quorum");
  }

  static List<Window> windows(List<Op> history) {
    Map<String, Op> started = new LinkedHashMap<>();
    List<Window> out = new ArrayList<>();
    long end = history.isEmpty() ? 0 : history.get(history.size() - 1).timeNanos();
    for (Op op : history) {
      if (!op.process().equals("nemesis") || !op.value().has("id")) {
        continue;
      }
      String id = op.value().get("id").getAsString();
      if (op.type().equals(Op.START)) {
        started.put(id, op);
      } else if (op.type().equals(Op.STOP) && started.containsKey(id)) {
        // The fault held for certain until its heal began (a restart takes seconds).
        long healMillis =
            op.value().has("healMillis") ? op.value().get("healMillis").getAsLong() : 0;
        window(started.remove(id), op.timeNanos() - healMillis * 1_000_000L).ifPresent(out::add);
      }
    }
    started.values().forEach(s -> window(s, end).ifPresent(out::add));
    return out;
  }

  private static java.util.Optional<Window> window(Op start, long stopNanos) {
    JsonArray affected = start.value().getAsJsonArray("noQuorumFor");
    if (affected == null || affected.isEmpty()) {
      return java.util.Optional.empty();
    }
    Set<String> ps = new HashSet<>();
    affected.forEach(e -> ps.add(e.getAsString()));
    return java.util.Optional.of(
        new Window(start.value().get("id").getAsString(), start.timeNanos(), stopNanos, ps));
  }

  // ---------------------------------------------------------------- bank

  /**
   * Every consistent read (a read transaction that committed) and the final read hold the total.
   */
  public static Verdict bank(RunFacts facts) {
    List<String> offending = new ArrayList<>();
    long checked = 0;
    for (Completed c : Txns.pair(facts.history())) {
      if (!c.f().equals("read") || !c.type().equals(Op.OK)) {
        continue;
      }
      checked++;
      JsonObject balances = c.completion().value().getAsJsonObject("balances");
      long total = 0;
      List<String> negative = new ArrayList<>();
      for (var e : balances.entrySet()) {
        long v = e.getValue().getAsLong();
        total += v;
        if (v < 0) {
          negative.add(e.getKey() + "=" + v);
        }
      }
      if (total != facts.bankTotal() || !negative.isEmpty()) {
        offending.add(
            String.format(
                "read tx=%s at %.1fs: total %d, expected %d%s",
                c.tx(),
                c.completion().timeSeconds(),
                total,
                facts.bankTotal(),
                negative.isEmpty() ? "" : ", negative " + negative));
      }
    }
    if (facts.finalRead() == null) {
      offending.add("final read: never succeeded");
    } else {
      checked++;
      long total = 0;
      for (Map<String, Long> values : facts.finalRead().values()) {
        for (long v : values.values()) {
          total += v;
        }
      }
      if (total != facts.bankTotal()) {
        offending.add("final read: total " + total + ", expected " + facts.bankTotal());
      }
    }
    return Verdict.of("bank", checked, offending, "consistent reads");
  }

  // ---------------------------------------------------------------- atomic multi-write

  /** In the final read each transaction's id is on all of its keys or on none. */
  public static Verdict atomic(RunFacts facts) {
    if (facts.finalRead() == null) {
      return new Verdict(
          "atomic", Validity.UNKNOWN, "the final read never succeeded", 0, List.of());
    }
    List<String> offending = new ArrayList<>();
    long checked = 0;
    Set<String> known = new HashSet<>();
    for (Completed c : Txns.pair(facts.history())) {
      if (!c.f().equals("write")) {
        continue;
      }
      known.add(key(c));
      checked++;
      Map<String, Boolean> present = presence(facts, c);
      long there = present.values().stream().filter(b -> b).count();
      if (there > 0 && there < present.size()) {
        offending.add(
            c.describe()
                + ": present at "
                + keysWhere(present, true)
                + ", absent at "
                + keysWhere(present, false));
      }
    }
    facts
        .finalRead()
        .forEach(
            (p, values) ->
                values.keySet().stream()
                    .filter(k -> k.startsWith("w") && !known.contains(k))
                    .forEach(k -> offending.add(p + ": " + k + " was never written by a client")));
    return Verdict.of("atomic", checked, offending, "multi-writes");
  }

  // ---------------------------------------------------------------- helpers

  private static String stateAt(RunFacts facts, String participant, String tx) {
    Map<String, String> states = facts.branchStates().get(participant);
    return states == null ? null : states.get(tx);
  }

  /** The key a multi-write puts its id under. */
  public static String key(long id) {
    return "w" + id;
  }

  private static String key(Completed c) {
    return key(c.invoke().value().get("id").getAsLong());
  }

  /** For a multi-write: per participant, whether the final read holds its id. */
  private static Map<String, Boolean> presence(RunFacts facts, Completed c) {
    Map<String, Boolean> out = new TreeMap<>();
    if (!c.invoke().value().has("id")) {
      return out;
    }
    long id = c.invoke().value().get("id").getAsLong();
    for (String p : c.participants()) {
      Map<String, Long> values = facts.finalRead().getOrDefault(p, new HashMap<>());
      Long v = values.get(key(id));
      out.put(p, v != null && v == id);
    }
    return out;
  }

  private static List<String> keysWhere(Map<String, Boolean> present, boolean value) {
    List<String> out = new ArrayList<>();
    present.forEach(
        (k, v) -> {
          if (v == value) {
            out.add(k);
          }
        });
    return out;
  }
}
