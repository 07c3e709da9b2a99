package io.decree.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.decree.cli.bench.TransportFloorBench.Floor;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/** A short run: both kinds of load complete round trips and are measured. */
class TransportFloorBenchTest {
  @Test
  void aShortRunMeasuresUnaryCallsAndStreamMessages() throws Exception {
    List<Floor> floors =
        new TransportFloorBench(4, Duration.ofMillis(200), Duration.ofMillis(500)).run();

    assertThat(floors).extracting(Floor::kind).containsExactly("unary call", "stream message");
    for (Floor floor : floors) {
      assertThat(floor.roundTripsPerSecond()).as(floor.kind()).isPositive();
      assertThat(floor.cpuMicrosPerRoundTrip()).as(floor.kind()).isPositive();
    }
  }

  @Test
  void nothingInFlightIsRefused() {
    assertThatThrownBy(() -> new TransportFloorBench(0, Duration.ZERO, Duration.ofSeconds(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("in-flight must be >= 1");
  }
}
