package io.decree.cli;

import io.decree.cli.bench.BenchConfig;
import io.decree.cli.bench.BenchResult;
import io.decree.cli.bench.Durations;
import io.decree.cli.bench.EndToEndBench;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** End-to-end load: coordinator and account services in this JVM, C transactions in flight. */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    description = {
      "End-to-end benchmark: starts a coordinator and N account services in this JVM (real gRPC"
          + " on 127.0.0.1, synced WALs), keeps C transactions in flight, and reports tx/s,"
          + " latency percentiles and CPU per transaction.",
      "Each transaction: begin, one Write at every account service, commit."
    })
final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--participants",
      defaultValue = "2",
      description =
          "Account services per transaction (1: one-phase commit). Default: ${DEFAULT-VALUE}.")
  int participants;

  @Option(
      names = "--in-flight",
      defaultValue = "64",
      description = "Transactions in flight at once. Default: ${DEFAULT-VALUE}.")
  int inFlight;

  @Option(
      names = "--duration",
      defaultValue = "20s",
      converter = DurationConverter.class,
      description = "Measured time, e.g. 20s, 500ms, 2m. Default: ${DEFAULT-VALUE}.")
  Duration duration;

  @Option(
      names = "--warmup",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "Unmeasured time before it; on 2 cores C2 is still compiling after 5 s, and at"
              + " 1 in flight (few calls per second) for about a minute: use 60s there."
              + " Default: ${DEFAULT-VALUE}.")
  Duration warmup;

  @Option(
      names = "--tx-timeout",
      defaultValue = "10s",
      converter = DurationConverter.class,
      description =
          "The coordinator aborts a transaction not decided in this. Default: ${DEFAULT-VALUE}.")
  Duration txTimeout;

  @Option(
      names = "--data-dir",
      description = "Where the WALs go (kept afterwards). Default: a temporary directory, deleted.")
  Path dataDir;

  @Option(
      names = "--coordinators",
      defaultValue = "1",
      description =
          "1: a single coordinator over its WAL (default); 3 or more: a coordinator cluster over"
              + " Raft, in this JVM, measured right after a single-node run of the same shape so"
              + " the two compare on the same machine state.")
  int coordinators;

  @Option(
      names = "--no-baseline",
      description = "With --coordinators > 1: skip the single-node run.")
  boolean noBaseline;

  @Option(names = "--json", description = "Print one JSON object instead of the summary.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    BenchConfig config =
        new BenchConfig(
                participants, inFlight, warmup, duration, Optional.ofNullable(dataDir), txTimeout)
            .withCoordinators(coordinators);
    boolean baseline = coordinators > 1 && !noBaseline;
    if (!json) {
      spec.commandLine()
          .getErr()
          .printf(
              "decree bench: running %s%s warmup + %s measured...%n",
              baseline ? "twice (single node, then the cluster): " : "",
              Durations.format(warmup),
              Durations.format(duration));
    }
    BenchResult single = baseline ? new EndToEndBench(config.withCoordinators(1)).run() : null;
    BenchResult result = new EndToEndBench(config).run();
    var out = spec.commandLine().getOut();
    if (single == null) {
      out.print(json ? result.toJson() + System.lineSeparator() : result.toHuman());
    } else {
      double ratio = single.txPerSecond() == 0 ? 0 : result.txPerSecond() / single.txPerSecond();
      if (json) {
        out.printf(
            java.util.Locale.ROOT,
            "{\"single\":%s,\"cluster\":%s,\"throughputRatio\":%.3f}%n",
            single.toJson(),
            result.toJson(),
            ratio);
      } else {
        out.print(single.toHuman());
        out.print(result.toHuman());
        out.printf(
            java.util.Locale.ROOT,
            "cluster / single node: %.2fx throughput, p50 %.3f ms vs %.3f ms%n",
            ratio,
            result.latencyP50Millis(),
            single.latencyP50Millis());
      }
    }
    out.flush();
    return result.committed() > 0 ? 0 : 1;
  }

  /** Accepts 500ms, 20s, 2m and ISO-8601 (PT20S). */
  static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
    @Override
    public Duration convert(String value) {
      try {
        return Durations.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }
}
