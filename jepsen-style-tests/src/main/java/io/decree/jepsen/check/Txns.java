package io.decree.jepsen.check;

import com.google.gson.JsonElement;
import io.decree.jepsen.history.Op;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Client operations of a history, each invoke paired with its completion. */
public final class Txns {
  /**
   * @param invoke the invoke line (its value says what was attempted, e.g. "participants")
   * @param completion ok, fail or info; an invoke without one (the harness stopped) counts as info
   */
  public record Completed(Op invoke, Op completion) {
    public String type() {
      return completion == null ? Op.INFO : completion.type();
    }

    public String tx() {
      if (completion != null && completion.tx() != null) {
        return completion.tx();
      }
      return invoke.tx();
    }

    public String f() {
      return invoke.f();
    }

    public List<String> participants() {
      List<String> out = new ArrayList<>();
      if (invoke.value().has("participants")) {
        for (JsonElement e : invoke.value().getAsJsonArray("participants")) {
          out.add(e.getAsString());
        }
      }
      return out;
    }

    /** One line of evidence for a verdict. */
    public String describe() {
      return f()
          + " tx="
          + tx()
          + " "
          + type()
          + " "
          + invoke.value()
          + (completion != null && completion.error() != null
              ? " (" + completion.error() + ")"
              : "");
    }
  }

  private Txns() {}

  public static List<Completed> pair(List<Op> history) {
    Map<String, Op> open = new HashMap<>();
    List<Completed> out = new ArrayList<>();
    for (Op op : history) {
      if (op.type().equals(Op.INVOKE)) {
        Op previous = open.put(op.process(), op);
        if (previous != null) {
          out.add(new Completed(previous, null));
        }
      } else if (op.isCompletion()) {
        Op invoke = open.remove(op.process());
        if (invoke != null) {
          out.add(new Completed(invoke, op));
        }
      }
    }
    open.values().forEach(invoke -> out.add(new Completed(invoke, null)));
    return out;
  }

  /** Writes (transfers, multi-writes): the operations that change data. */
  public static boolean isWrite(Completed c) {
    return c.f().equals("transfer") || c.f().equals("write");
  }
}
