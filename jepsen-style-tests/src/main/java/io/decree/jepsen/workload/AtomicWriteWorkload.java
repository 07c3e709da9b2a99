package io.decree.jepsen.workload;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.decree.jepsen.check.Checkers;
import io.decree.proto.examples.bank.v1.WriteRequest;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Atomic multi-write: each transaction writes its own id under its own key ({@code w<id>}) at two
 * or three participants. In the final read each id must be on all of its participants or on none.
 */
public final class AtomicWriteWorkload implements Workload {
  private final AtomicLong ids = new AtomicLong();

  @Override
  public String name() {
    return "atomic";
  }

  @Override
  public List<Map<String, Long>> openingAccounts(int participants) {
    List<Map<String, Long>> out = new ArrayList<>();
    for (int i = 0; i < participants; i++) {
      out.add(Map.of());
    }
    return out;
  }

  @Override
  public long bankTotal() {
    return -1;
  }

  @Override
  public void step(Session session, List<String> participants) {
    int k = participants.size() < 3 ? 2 : 2 + session.random().nextInt(2);
    List<String> chosen = new ArrayList<>(participants);
    Collections.shuffle(chosen, session.random());
    chosen = new ArrayList<>(chosen.subList(0, k));
    Collections.sort(chosen);
    long id = ids.incrementAndGet();
    String key = Checkers.key(id);
    JsonObject value = new JsonObject();
    value.addProperty("id", id);
    JsonArray ps = new JsonArray();
    chosen.forEach(ps::add);
    value.add("participants", ps);
    List<String> targets = chosen;
    session.transaction(
        "write",
        value,
        tx -> {
          for (String p : targets) {
            session.accounts(p).write(WriteRequest.newBuilder().putValues(key, id).build());
          }
          return null;
        });
  }
}
