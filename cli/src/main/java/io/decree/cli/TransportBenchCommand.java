package io.decree.cli;

import io.decree.cli.bench.TransportFloorBench;
import io.decree.cli.bench.TransportFloorBench.Floor;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** The transport's floor: CPU per gRPC round trip with our settings, nothing of Decree on top. */
@Command(
    name = "transport-bench",
    mixinStandardHelpOptions = true,
    description = {
      "What gRPC alone costs on this machine with Decree's server and channel settings: C unary"
          + " calls in flight, then C requests in flight on one stream, over 127.0.0.1 in this"
          + " JVM. Reports round trips per second and CPU (client and server) per round trip,"
          + " the floor under the end-to-end bench's CPU per transaction."
    })
final class TransportBenchCommand implements Callable<Integer> {
  @Option(
      names = "--in-flight",
      defaultValue = "64",
      description = "Round trips in flight at once. Default: ${DEFAULT-VALUE}.")
  int inFlight;

  @Option(
      names = "--duration",
      defaultValue = "10s",
      converter = BenchCommand.DurationConverter.class,
      description = "Measured time per kind. Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(
      names = "--warmup",
      defaultValue = "10s",
      converter = BenchCommand.DurationConverter.class,
      description = "Unmeasured time before each kind. Default: ${DEFAULT-VALUE}.")
  Duration warmup;

  @Option(names = "--json", description = "One JSON object instead of text.")
  boolean json;

  @Override
  public Integer call() throws InterruptedException {
    List<Floor> floors = new TransportFloorBench(inFlight, warmup, duration).run();
    if (json) {
      StringBuilder out = new StringBuilder("{\"inFlight\":" + inFlight + ",\"floors\":[");
      for (int i = 0; i < floors.size(); i++) {
        Floor f = floors.get(i);
        out.append(i == 0 ? "" : ",")
            .append(
                String.format(
                    Locale.ROOT,
                    "{\"kind\":\"%s\",\"roundTripsPerSecond\":%.0f,\"cpuMicrosPerRoundTrip\":%.2f}",
                    f.kind(),
                    f.roundTripsPerSecond(),
                    f.cpuMicrosPerRoundTrip()));
      }
      System.out.println(out.append("]}"));
    } else {
      for (Floor f : floors) {
        System.out.printf(
            Locale.ROOT,
            "%-15s %,10.0f round trips/s   CPU %6.2f us per round trip (client + server)%n",
            f.kind(),
            f.roundTripsPerSecond(),
            f.cpuMicrosPerRoundTrip());
      }
    }
    return 0;
  }
}
