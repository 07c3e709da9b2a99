package io.decree.jepsen.check;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.decree.jepsen.history.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Each checker on hand-made histories: one that keeps its rule and one that breaks it. */
class CheckersTest {
  private final List<Op> ops = new ArrayList<>();
  private long clock;

  private Op add(String process, String type, String f, JsonObject value, String tx) {
    Op op = new Op(ops.size(), process, type, f, value, clock += 100_000_000L, tx, null);
    ops.add(op);
    return op;
  }

  private static JsonObject write(long id, String... participants) {
    JsonObject v = new JsonObject();
    v.addProperty("id", id);
    JsonArray ps = new JsonArray();
    for (String p : participants) {
      ps.add(p);
    }
    v.add("participants", ps);
    return v;
  }

  private void writeOp(String type, long id, String tx, String... participants) {
    add("0", Op.INVOKE, "write", write(id, participants), null);
    add("0", type, "write", write(id, participants), tx);
  }

  private RunFacts atomicFacts(
      Map<String, Map<String, String>> states, Map<String, Map<String, Long>> read) {
    return new RunFacts(ops, states, Map.of("p1", List.of(), "p2", List.of()), read, -1);
  }

  private static Map<String, Map<String, String>> states(String... tripples) {
    Map<String, Map<String, String>> out = new HashMap<>();
    for (int i = 0; i < tripples.length; i += 3) {
      out.computeIfAbsent(tripples[i], p -> new HashMap<>()).put(tripples[i + 1], tripples[i + 2]);
    }
    out.putIfAbsent("p1", new HashMap<>());
    out.putIfAbsent("p2", new HashMap<>());
    return out;
  }

  private static Map<String, Map<String, Long>> read(Object... pkv) {
    Map<String, Map<String, Long>> out = new HashMap<>();
    out.put("p1", new HashMap<>());
    out.put("p2", new HashMap<>());
    for (int i = 0; i < pkv.length; i += 3) {
      out.get((String) pkv[i]).put((String) pkv[i + 1], ((Number) pkv[i + 2]).longValue());
    }
    return out;
  }

  @Test
  void agreementCatchesACommitBesideAnAbort() {
    assertThat(
            Checkers.agreement(
                    atomicFacts(states("p1", "t1", "COMMITTED", "p2", "t1", "COMMITTED"), null))
                .validity())
        .isEqualTo(Validity.VALID);
    Verdict broken =
        Checkers.agreement(
            atomicFacts(states("p1", "t1", "COMMITTED", "p2", "t1", "ABORTED"), null));
    assertThat(broken.validity()).isEqualTo(Validity.INVALID);
    assertThat(broken.offending()).singleElement().asString().contains("t1");
  }

  @Test
  void agreementCatchesABranchCommittedAgainstTheLoggedAbort() {
    // p2 aborted before voting and kept no record: only the coordinator's ABORT contradicts p1.
    var states = states("p1", "t1", "COMMITTED", "p1", "t2", "COMMITTED");
    Verdict broken =
        Checkers.agreement(
            new RunFacts(ops, states, null, null, -1, Map.of("t1", "ABORTED", "t2", "COMMITTED")));

    assertThat(broken.validity()).isEqualTo(Validity.INVALID);
    assertThat(broken.offending())
        .singleElement()
        .asString()
        .contains("t1", "coordinator decided ABORTED");
    assertThat(broken.checked()).isEqualTo(2);
  }

  @Test
  void durabilityCatchesAnAcknowledgedWriteThatIsGone() {
    writeOp(Op.OK, 1, "t1", "p1", "p2");
    var good =
        atomicFacts(
            states("p1", "t1", "COMMITTED", "p2", "t1", "COMMITTED"),
            read("p1", "w1", 1, "p2", "w1", 1));
    assertThat(Checkers.durability(good).validity()).isEqualTo(Validity.VALID);

    var lostAtP2 = atomicFacts(states("p1", "t1", "COMMITTED"), read("p1", "w1", 1));
    Verdict v = Checkers.durability(lostAtP2);
    assertThat(v.validity()).isEqualTo(Validity.INVALID);
    assertThat(v.offending().get(0))
        .contains("t1")
        .contains("p2 has no record")
        .contains("p2 lacks");
  }

  @Test
  void honestyCatchesAFailedWriteThatHappenedAndAPartialIndeterminateOne() {
    writeOp(Op.FAIL, 1, "t1", "p1", "p2");
    writeOp(Op.INFO, 2, "t2", "p1", "p2");
    writeOp(Op.INFO, 3, "t3", "p1", "p2");
    var facts =
        atomicFacts(
            states(
                "p1",
                "t1",
                "ABORTED",
                "p2",
                "t1",
                "ABORTED",
                "p1",
                "t3",
                "COMMITTED",
                "p2",
                "t3",
                "COMMITTED"),
            read("p1", "w3", 3, "p2", "w3", 3));
    assertThat(Checkers.honesty(facts).validity()).isEqualTo(Validity.VALID);

    var lying =
        atomicFacts(
            states("p1", "t1", "COMMITTED", "p2", "t1", "COMMITTED"),
            read("p1", "w1", 1, "p2", "w1", 1, "p1", "w2", 2));
    Verdict v = Checkers.honesty(lying);
    assertThat(v.validity()).isEqualTo(Validity.INVALID);
    assertThat(String.join("\n", v.offending()))
        .contains("tx=t1")
        .contains("tx=t2")
        .contains("partial");
  }

  @Test
  void terminationCatchesABranchLeftInDoubt() {
    var settled = new RunFacts(ops, null, Map.of("p1", List.of(), "p2", List.of()), null, -1);
    assertThat(Checkers.termination(settled).validity()).isEqualTo(Validity.VALID);
    var stuck =
        new RunFacts(
            ops,
            null,
            Map.of("p1", List.of("t9 PREPARED waiting for decision"), "p2", List.of()),
            null,
            -1);
    Verdict v = Checkers.termination(stuck);
    assertThat(v.validity()).isEqualTo(Validity.INVALID);
    assertThat(v.offending()).singleElement().asString().contains("t9");
    assertThat(Checkers.termination(new RunFacts(ops, null, null, null, -1)).validity())
        .isEqualTo(Validity.UNKNOWN);
  }

  private void fault(String type, String... noQuorumFor) {
    JsonObject v = new JsonObject();
    v.addProperty("id", "f1");
    JsonArray ps = new JsonArray();
    for (String p : noQuorumFor) {
      ps.add(p);
    }
    v.add("noQuorumFor", ps);
    add("nemesis", type, "kill", v, null);
  }

  private void observe(String participant, String tx, boolean blocked, String waitingFor) {
    JsonObject b = new JsonObject();
    b.addProperty("tx", tx);
    b.addProperty("state", "PREPARED");
    b.addProperty("blocked", blocked);
    b.addProperty("waitingFor", waitingFor);
    JsonArray bs = new JsonArray();
    bs.add(b);
    JsonObject v = new JsonObject();
    v.addProperty("participant", participant);
    v.add("branches", bs);
    add("monitor", Op.OBSERVE, "in-doubt", v, null);
  }

  @Test
  void blockingCatchesAPreparedBranchThatDoesNotSayItIsBlocked() {
    assertThat(Checkers.blocking(new RunFacts(ops, null, null, null, -1)).validity())
        .isEqualTo(Validity.UNKNOWN);
    fault(Op.START, "p1");
    clock += Checkers.BLOCKING_GRACE_NANOS;
    observe("p1", "t1", true, "decision from the coordinator");
    observe("p2", "t2", false, ""); // p2 still had its quorum: not judged
    fault(Op.STOP);
    observe("p1", "t3", false, ""); // after the window: not judged
    assertThat(Checkers.blocking(new RunFacts(ops, null, null, null, -1)).validity())
        .isEqualTo(Validity.VALID);

    fault(Op.START, "p1");
    clock += Checkers.BLOCKING_GRACE_NANOS;
    observe("p1", "t4", false, "");
    fault(Op.STOP);
    Verdict v = Checkers.blocking(new RunFacts(ops, null, null, null, -1));
    assertThat(v.validity()).isEqualTo(Validity.INVALID);
    assertThat(v.offending()).singleElement().asString().contains("t4");
  }

  private void bankRead(long... balances) {
    JsonObject b = new JsonObject();
    for (int i = 0; i < balances.length; i++) {
      b.addProperty("a" + i, balances[i]);
    }
    JsonObject v = new JsonObject();
    v.add("balances", b);
    add("1", Op.INVOKE, "read", new JsonObject(), null);
    add("1", Op.OK, "read", v, "r" + ops.size());
  }

  @Test
  void bankCatchesMoneyCreatedOrDestroyed() {
    bankRead(50, 150);
    var good = new RunFacts(ops, null, null, Map.of("p1", Map.of("a0", 120L, "a1", 80L)), 200);
    assertThat(Checkers.bank(good).validity()).isEqualTo(Validity.VALID);
    bankRead(50, 160);
    var bad = new RunFacts(ops, null, null, Map.of("p1", Map.of("a0", 120L, "a1", 70L)), 200);
    Verdict v = Checkers.bank(bad);
    assertThat(v.validity()).isEqualTo(Validity.INVALID);
    assertThat(v.offending()).hasSize(2);
    assertThat(Checkers.bank(new RunFacts(ops, null, null, null, 200)).validity())
        .isEqualTo(Validity.INVALID); // a final read that never succeeded
  }

  @Test
  void atomicCatchesAWriteOnSomeOfItsKeysOnly() {
    writeOp(Op.OK, 1, "t1", "p1", "p2");
    writeOp(Op.INFO, 2, "t2", "p1", "p2");
    assertThat(Checkers.atomic(atomicFacts(null, read("p1", "w1", 1, "p2", "w1", 1))).validity())
        .isEqualTo(Validity.VALID);
    Verdict v =
        Checkers.atomic(atomicFacts(null, read("p1", "w1", 1, "p2", "w1", 1, "p2", "w2", 2)));
    assertThat(v.validity()).isEqualTo(Validity.INVALID);
    assertThat(v.offending()).singleElement().asString().contains("t2");
    assertThat(Checkers.atomic(atomicFacts(null, read("p1", "w7", 7))).validity())
        .isEqualTo(Validity.INVALID); // an id nobody wrote
  }

  @Test
  void overallIsInvalidBeforeUnknownBeforeValid() {
    Verdict valid = new Verdict("a", Validity.VALID, "", 1, List.of());
    Verdict unknown = new Verdict("b", Validity.UNKNOWN, "", 0, List.of());
    Verdict invalid = new Verdict("c", Validity.INVALID, "", 1, List.of("x"));
    assertThat(Checkers.overall(List.of(valid))).isEqualTo(Validity.VALID);
    assertThat(Checkers.overall(List.of(valid, unknown))).isEqualTo(Validity.UNKNOWN);
    assertThat(Checkers.overall(List.of(unknown, invalid, valid))).isEqualTo(Validity.INVALID);
  }
}
