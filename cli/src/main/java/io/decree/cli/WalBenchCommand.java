package io.decree.cli;

import io.decree.wal.bench.WalBenchmark;
import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** Exposes the WAL benchmark: append+sync latency and group-commit throughput vs raw fsync. */
@Command(
    name = "wal-bench",
    mixinStandardHelpOptions = true,
    description = "Benchmark the write-ahead log against raw FileChannel.force on this disk.")
final class WalBenchCommand implements Runnable {
  @Parameters(description = "Options passed to the benchmark (e.g. --seconds 5 --dir PATH).")
  List<String> args = new ArrayList<>();

  @Override
  public void run() {
    try {
      WalBenchmark.main(args.toArray(String[]::new));
    } catch (Exception e) {
      throw new IllegalStateException("wal-bench failed: " + e.getMessage(), e);
    }
  }
}
