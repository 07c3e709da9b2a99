package io.decree.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A short run with tiny settings: it completes transactions and says so in parseable JSON. */
class EndToEndBenchTest {
  @TempDir Path dir;

  @Test
  void aShortRunCommitsAndReportsAsJson() throws Exception {
    BenchConfig config =
        new BenchConfig(
            2,
            4,
            Duration.ofMillis(1_000),
            Duration.ofMillis(2_000),
            Optional.of(dir.resolve("data")),
            Duration.ofSeconds(10));

    BenchResult result = new EndToEndBench(config).run();

    assertThat(result.committed()).isPositive();
    assertThat(result.unknown()).isZero();
    JsonObject json = JsonParser.parseString(result.toJson()).getAsJsonObject();
    assertThat(json.get("participants").getAsInt()).isEqualTo(2);
    assertThat(json.get("inFlight").getAsInt()).isEqualTo(4);
    assertThat(json.get("committed").getAsLong()).isEqualTo(result.committed());
    assertThat(json.get("txPerSecond").getAsDouble()).isPositive();
    assertThat(json.get("cpuMicrosPerTx").getAsDouble()).isPositive();
    JsonObject latency = json.getAsJsonObject("latencyMillis");
    for (String p : new String[] {"p50", "p90", "p99", "p999", "max", "mean"}) {
      assertThat(latency.get(p).getAsDouble()).as(p).isPositive();
    }
    assertThat(latency.get("p50").getAsDouble())
        .isLessThanOrEqualTo(latency.get("p99").getAsDouble());
    JsonObject commit = json.getAsJsonObject("commitLatencyMillis");
    assertThat(commit.get("p50").getAsDouble())
        .as("the commit call is part of the whole transaction")
        .isPositive()
        .isLessThanOrEqualTo(latency.get("max").getAsDouble());
    assertThat(result.toHuman()).contains("tx/s", "p99.9", "the commit call alone");
  }

  @Test
  void oneParticipantTakesTheOnePhasePathInATemporaryDirectory() throws Exception {
    BenchConfig config =
        new BenchConfig(
            1,
            2,
            Duration.ofMillis(500),
            Duration.ofMillis(2_000),
            Optional.empty(),
            Duration.ofSeconds(10));

    BenchResult result = new EndToEndBench(config).run();

    assertThat(result.committed()).isPositive();
    assertThat(result.toHuman()).contains("one-phase");
  }

  @Test
  void durationsAcceptTheShortForms() {
    assertThat(Durations.parse("20s")).isEqualTo(Duration.ofSeconds(20));
    assertThat(Durations.parse("500ms")).isEqualTo(Duration.ofMillis(500));
    assertThat(Durations.parse("1.5s")).isEqualTo(Duration.ofMillis(1_500));
    assertThat(Durations.parse("2m")).isEqualTo(Duration.ofMinutes(2));
    assertThat(Durations.parse("PT3S")).isEqualTo(Duration.ofSeconds(3));
    assertThatThrownBy(() -> Durations.parse("soon")).hasMessageContaining("20s");
  }

  @Test
  void limitsAreEnforced() {
    assertThatThrownBy(
            () ->
                new BenchConfig(
                    0,
                    1,
                    Duration.ZERO,
                    Duration.ofSeconds(1),
                    Optional.empty(),
                    Duration.ofSeconds(1)))
        .hasMessageContaining("--participants");
    assertThatThrownBy(
            () ->
                new BenchConfig(
                    1,
                    BenchConfig.IN_FLIGHT_MAX + 1,
                    Duration.ZERO,
                    Duration.ofSeconds(1),
                    Optional.empty(),
                    Duration.ofSeconds(1)))
        .hasMessageContaining("--in-flight");
  }
}
