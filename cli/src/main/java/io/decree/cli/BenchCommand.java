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
          "Unmeasured time before it; on 2 cores C2 is still compiling after 5 s."
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

  @Option(names = "--json", description = "Print one JSON object instead of the summary.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException {
    BenchConfig config =
        new BenchConfig(
            participants, inFlight, warmup, duration, Optional.ofNullable(dataDir), txTimeout);
    if (!json) {
      spec.commandLine()
          .getErr()
          .printf(
              "decree bench: running %s warmup + %s measured...%n",
              Durations.format(warmup), Durations.format(duration));
    }
    BenchResult result = new EndToEndBench(config).run();
    spec.commandLine()
        .getOut()
        .print(json ? result.toJson() + System.lineSeparator() : result.toHuman());
    spec.commandLine().getOut().flush();
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
