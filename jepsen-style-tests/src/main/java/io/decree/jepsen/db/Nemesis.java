package io.decree.jepsen.db;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.decree.jepsen.history.History;
import io.decree.jepsen.history.Op;
import io.decree.jepsen.net.FaultProxy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.function.Supplier;

/**
 * Applies faults one at a time on a schedule drawn from the seed: a quiet gap, a fault, its
 * duration, the heal. Every start and stop goes into the history with the nodes or links touched
 * and the participants that could reach no coordinator quorum meanwhile ({@code noQuorumFor}, for
 * the blocking checker).
 *
 * <p>Kinds: {@code kill} (kill -9 and restart the leader, a random coordinator or a participant;
 * {@code kill-leader}, {@code kill-coordinator} and {@code kill-participant} narrow it), {@code
 * majority} (kill -9 or SIGSTOP a majority of the coordinators, the leader among them, so that no
 * coordinator quorum exists until the heal; {@code majority-followers} always takes every member
 * but the leader, which stays up without a quorum), {@code pause} (SIGSTOP, then SIGCONT), {@code
 * partition} (isolate a participant; isolate a coordinator from everyone, or only from the other
 * coordinators; cut one direction of a link, or delay a link, Raft links included) and {@code
 * lost-replies} (requests arrive, answers never do). {@code partition-raft} draws only among the
 * Raft-link shapes (a member cut off from the others, or one direction of one Raft link).
 */
public final class Nemesis {
  public static final Set<String> KINDS =
      Set.of(
          "kill",
          "kill-leader",
          "kill-coordinator",
          "kill-participant",
          "majority",
          "majority-followers",
          "pause",
          "partition",
          "partition-raft",
          "lost-replies");

  /** The schedule's shape, in milliseconds. */
  public record Timing(
      long gapMinMillis, long gapMaxMillis, long faultMinMillis, long faultMaxMillis) {
    public static Timing defaults() {
      return new Timing(1_500, 4_000, 2_000, 6_000);
    }
  }

  /** A fault in force: how to end it. */
  private record Active(String id, String kind, JsonObject value, Runnable heal) {}

  private final DbCluster db;
  private final History history;
  private final List<String> kinds;
  private final Random random;
  private final Timing timing;
  private final Supplier<String> leader;
  private final Map<String, Integer> counts = new LinkedHashMap<>();
  private int next;

  /**
   * @param leader the coordinator that leads now (or answered the last begin)
   */
  public Nemesis(
      DbCluster db,
      History history,
      List<String> kinds,
      long seed,
      Timing timing,
      Supplier<String> leader) {
    for (String k : kinds) {
      if (!KINDS.contains(k)) {
        throw new IllegalArgumentException("unknown nemesis " + k + "; known: " + KINDS);
      }
    }
    this.db = db;
    this.history = history;
    this.kinds = List.copyOf(kinds);
    this.random = new Random(seed);
    this.timing = timing;
    this.leader = leader;
  }

  /** Faults applied so far, by kind. */
  public synchronized Map<String, Integer> counts() {
    return new LinkedHashMap<>(counts);
  }

  /** Runs the schedule until {@code deadlineNanos} (System.nanoTime) or interruption. */
  public void run(long deadlineNanos) {
    if (kinds.isEmpty()) {
      return;
    }
    while (!Thread.currentThread().isInterrupted()) {
      if (!sleepUntil(
              Math.min(
                  deadlineNanos,
                  System.nanoTime()
                      + millis(between(timing.gapMinMillis(), timing.gapMaxMillis()))))
          || System.nanoTime() >= deadlineNanos) {
        return;
      }
      Active fault = start(kinds.get(random.nextInt(kinds.size())));
      long hold = millis(between(timing.faultMinMillis(), timing.faultMaxMillis()));
      try {
        sleepUntil(Math.min(deadlineNanos, System.nanoTime() + hold));
      } finally {
        stop(fault);
      }
    }
  }

  private Active start(String kind) {
    String id = "f" + (++next);
    JsonObject value = new JsonObject();
    value.addProperty("id", id);
    Runnable heal;
    switch (kind) {
      case "kill", "kill-leader", "kill-coordinator", "kill-participant" -> {
        String target = pickNode(kind);
        value.addProperty("node", target);
        ChildJvm node = db.node(target);
        node.kill9();
        heal = () -> node.start(DbCluster.START_TIMEOUT);
        kind = "kill";
      }
      case "majority" -> heal = majority(value, random.nextBoolean());
      case "majority-followers" -> {
        heal = majority(value, true);
        kind = "majority";
      }
      case "pause" -> {
        String target = pickNode("pause");
        value.addProperty("node", target);
        ChildJvm node = db.node(target);
        node.pause();
        heal = node::resume;
      }
      case "partition" -> heal = partition(value);
      case "partition-raft" -> heal = partitionRaft(value);
      case "lost-replies" -> {
        List<FaultProxy> links = new ArrayList<>();
        for (String p : db.participants()) {
          links.add(db.network().get("any", p));
        }
        for (String c : db.coordinators()) {
          links.add(db.network().get("client", c));
        }
        FaultProxy link = links.get(random.nextInt(links.size()));
        value.addProperty("link", link.name());
        link.setMode(FaultProxy.Mode.DROP_REPLIES);
        heal = link::heal;
      }
      default -> throw new IllegalArgumentException(kind);
    }
    value.add("noQuorumFor", noQuorumFor());
    synchronized (this) {
      counts.merge(kind, 1, Integer::sum);
    }
    history.add("nemesis", Op.START, kind, value, null, null);
    return new Active(id, kind, value, heal);
  }

  private void stop(Active fault) {
    String error = null;
    long healStart = System.nanoTime();
    try {
      fault.heal().run();
    } catch (RuntimeException e) {
      error = "heal failed: " + e.getMessage();
    }
    JsonObject value = new JsonObject();
    value.addProperty("id", fault.id());
    // A restart takes seconds: the fault's effect (e.g. no quorum) certainly held until the heal
    // began, not necessarily until this line.
    value.addProperty("healMillis", (System.nanoTime() - healStart) / 1_000_000L);
    history.add("nemesis", Op.STOP, fault.kind(), value, null, error);
  }

  private String pickNode(String kind) {
    List<String> coordinators = db.coordinators();
    List<String> participants = db.participants();
    if (kind.equals("kill-participant")) {
      return participants.get(random.nextInt(participants.size()));
    }
    if (kind.equals("kill-leader")) {
      return leader.get();
    }
    if (kind.equals("kill-coordinator")) {
      return random.nextBoolean()
          ? leader.get()
          : coordinators.get(random.nextInt(coordinators.size()));
    }
    return switch (random.nextInt(3)) {
      case 0 -> leader.get();
      case 1 -> coordinators.get(random.nextInt(coordinators.size()));
      default -> participants.get(random.nextInt(participants.size()));
    };
  }

  /**
   * A majority of the coordinators is killed or paused together, so that no quorum exists until the
   * heal restarts or resumes them: either the leader and others drawn at random (a new leader must
   * be elected afterwards), or every member but the leader (it stays up and cannot make a decision
   * durable, so the transactions it was deciding stay prepared at the participants). A single
   * coordinator is simply the whole majority.
   */
  private Runnable majority(JsonObject value, boolean leaderStays) {
    List<String> coordinators = db.coordinators();
    int majority = coordinators.size() / 2 + 1;
    String lead = leader.get();
    List<String> others = new ArrayList<>(coordinators);
    others.remove(lead);
    java.util.Collections.shuffle(others, random);
    List<String> targets = new ArrayList<>();
    if (coordinators.size() > 1 && others.size() >= majority && leaderStays) {
      targets.addAll(others.subList(0, majority));
      value.addProperty("shape", "all but the leader " + lead);
    } else {
      targets.add(lead);
      targets.addAll(others.subList(0, majority - 1));
      value.addProperty("shape", "the leader " + lead + " and others");
    }
    boolean kill = random.nextBoolean();
    value.addProperty("how", kill ? "kill" : "pause");
    JsonArray nodes = new JsonArray();
    targets.forEach(nodes::add);
    value.add("nodes", nodes);
    List<ChildJvm> jvms = targets.stream().map(db::node).toList();
    if (kill) {
      jvms.forEach(ChildJvm::kill9);
      return () -> DbCluster.startTogether(jvms);
    }
    jvms.forEach(ChildJvm::pause);
    return () -> jvms.forEach(ChildJvm::resume);
  }

  private Runnable partition(JsonObject value) {
    List<FaultProxy> cut = new ArrayList<>();
    FaultProxy.Mode mode = FaultProxy.Mode.CUT_BOTH;
    long delay = 0;
    List<FaultProxy> all = db.network().all();
    switch (random.nextInt(5)) {
      case 0 -> {
        String p = db.participants().get(random.nextInt(db.participants().size()));
        value.addProperty("shape", "isolate " + p);
        cut.addAll(db.network().touching(p));
      }
      case 1 -> {
        String c = db.coordinators().get(random.nextInt(db.coordinators().size()));
        value.addProperty("shape", "isolate " + c);
        cut.addAll(db.network().touching(c));
      }
      case 2 -> {
        FaultProxy link = all.get(random.nextInt(all.size()));
        mode = random.nextBoolean() ? FaultProxy.Mode.CUT_REQUESTS : FaultProxy.Mode.CUT_REPLIES;
        value.addProperty("shape", "one way " + mode + " on " + link.name());
        cut.add(link);
      }
      case 3 -> {
        FaultProxy link = all.get(random.nextInt(all.size()));
        delay = between(200, 1_500);
        value.addProperty("shape", "delay " + delay + " ms on " + link.name());
        cut.add(link);
      }
      default -> {
        if (db.coordinators().size() > 1) {
          isolateFromPeers(value, cut);
        } else {
          String p = db.participants().get(random.nextInt(db.participants().size()));
          value.addProperty("shape", "isolate " + p);
          cut.addAll(db.network().touching(p));
        }
      }
    }
    return apply(value, cut, mode, delay);
  }

  /**
   * Raft links only: a member isolated from the other members (both directions), or one direction
   * of one Raft link cut.
   */
  private Runnable partitionRaft(JsonObject value) {
    List<FaultProxy> cut = new ArrayList<>();
    FaultProxy.Mode mode = FaultProxy.Mode.CUT_BOTH;
    if (db.coordinators().size() < 2) {
      value.addProperty("shape", "none: a single coordinator has no Raft links");
    } else if (random.nextBoolean()) {
      isolateFromPeers(value, cut);
    } else {
      List<String> cs = new ArrayList<>(db.coordinators());
      java.util.Collections.shuffle(cs, random);
      FaultProxy link = db.network().get(cs.get(0), cs.get(1));
      mode = random.nextBoolean() ? FaultProxy.Mode.CUT_REQUESTS : FaultProxy.Mode.CUT_REPLIES;
      value.addProperty("shape", "one way " + mode + " on " + link.name());
      cut.add(link);
    }
    return apply(value, cut, mode, 0);
  }

  /**
   * The member still hears clients and participants: a leader cut off like this keeps taking
   * requests until it notices it lost its majority.
   */
  private void isolateFromPeers(JsonObject value, List<FaultProxy> cut) {
    String c = db.coordinators().get(random.nextInt(db.coordinators().size()));
    value.addProperty("shape", "isolate " + c + " from the other coordinators");
    for (String other : db.coordinators()) {
      if (!other.equals(c)) {
        cut.add(db.network().get(c, other));
        cut.add(db.network().get(other, c));
      }
    }
  }

  private static Runnable apply(
      JsonObject value, List<FaultProxy> cut, FaultProxy.Mode mode, long delay) {
    JsonArray links = new JsonArray();
    for (FaultProxy link : cut) {
      links.add(link.name());
      if (delay > 0) {
        link.setDelayMillis(delay);
      } else {
        link.setMode(mode);
      }
    }
    value.add("links", links);
    return () -> cut.forEach(FaultProxy::heal);
  }

  /**
   * Participants that reach fewer than a majority of live, running coordinators over working links
   * (a delayed link still works).
   */
  private JsonArray noQuorumFor() {
    JsonArray out = new JsonArray();
    int majority = db.coordinators().size() / 2 + 1;
    for (String p : db.participants()) {
      ChildJvm self = db.node(p);
      int reachable = 0;
      for (String c : db.coordinators()) {
        ChildJvm node = db.node(c);
        boolean up = node.alive() && !node.paused();
        // p learns decisions by asking over p->c; what the coordinator pushes is a bonus.
        boolean linked = db.network().get(p, c).mode() == FaultProxy.Mode.OK;
        if (up && linked) {
          reachable++;
        }
      }
      if (reachable < majority && self.alive() && !self.paused()) {
        out.add(p);
      }
    }
    return out;
  }

  private long between(long min, long max) {
    return min + (long) (random.nextDouble() * (max - min));
  }

  private static long millis(long ms) {
    return ms * 1_000_000L;
  }

  /** False when interrupted. */
  private static boolean sleepUntil(long deadlineNanos) {
    long left;
    while ((left = deadlineNanos - System.nanoTime()) > 0) {
      try {
        Thread.sleep(Math.max(1, left / 1_000_000L));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return false;
      }
    }
    return true;
  }
}
