package io.decree.jepsen.history;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HistoryTest {
  @Test
  void linesRoundTripThroughTheFile(@TempDir Path dir) {
    Path file = dir.resolve("history.jsonl");
    JsonObject v = new JsonObject();
    v.addProperty("id", 42);
    try (History h = new History(file)) {
      h.add("0", Op.INVOKE, "write", v, null, null);
      h.add("0", Op.INFO, "write", v, "tx-1", "UNKNOWN timeout");
      h.add("nemesis", Op.START, "kill", new JsonObject(), null, null);
    }
    List<Op> ops = History.read(file);
    assertThat(ops).hasSize(3);
    assertThat(ops.get(0).type()).isEqualTo(Op.INVOKE);
    assertThat(ops.get(0).tx()).isNull();
    assertThat(ops.get(1).tx()).isEqualTo("tx-1");
    assertThat(ops.get(1).error()).isEqualTo("UNKNOWN timeout");
    assertThat(ops.get(1).value().get("id").getAsLong()).isEqualTo(42);
    assertThat(ops.get(1).timeNanos()).isGreaterThanOrEqualTo(ops.get(0).timeNanos());
    assertThat(ops.get(2).isClient()).isFalse();
  }
}
