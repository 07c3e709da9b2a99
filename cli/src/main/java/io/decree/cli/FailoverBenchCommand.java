package io.decree.cli;

import io.decree.cli.bench.FailoverBench;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code decree bench-failover}: kill -9 the cluster leader, time the next commit. */
@Command(
    name = "bench-failover",
    mixinStandardHelpOptions = true,
    description = {
      "Leader failover with real processes: a 3-member coordinator cluster and two account"
          + " services (each its own JVM on 127.0.0.1). Each round kill -9s the leader and times"
          + " kill -> first commit begun after it and answered COMMITTED; the killed member is"
          + " restarted before the next round. Prints the median, p90 and max."
    })
final class FailoverBenchCommand implements Callable<Integer> {
  @Option(names = "--rounds", defaultValue = "5", description = "Kills. Default: ${DEFAULT-VALUE}.")
  int rounds;

  @Option(
      names = "--election-timeout",
      defaultValue = "1000-2000",
      description = "Each member's --election-timeout, MIN-MAX ms. Default: ${DEFAULT-VALUE}.")
  String electionTimeout;

  @Option(
      names = "--load",
      defaultValue = "0",
      description =
          "Clients committing back to back all along besides the measuring one (the Raft log"
              + " grows while the leader dies). Default: ${DEFAULT-VALUE}.")
  int load;

  @Option(
      names = "--no-leader-watch",
      description =
          "Members wait out the election timeout instead of replacing a leader whose process is"
              + " gone at once (to compare).")
  boolean noLeaderWatch;

  @Option(
      names = "--data-dir",
      description = "Where the nodes' data and logs go (kept). Default: a temporary directory.")
  Path dataDir;

  @Option(names = "--json", description = "Print one JSON object instead of the summary.")
  boolean json;

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public Integer call() throws InterruptedException, IOException {
    Path root = dataDir != null ? dataDir : Files.createTempDirectory("decree-failover-");
    FailoverBench.Result result =
        new FailoverBench(root, rounds, electionTimeout, !noLeaderWatch, load).run();
    List<Long> sorted = new ArrayList<>(result.failoverMillis());
    Collections.sort(sorted);
    long median = sorted.get(sorted.size() / 2);
    long p90 = sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(sorted.size() * 0.9) - 1));
    long max = sorted.get(sorted.size() - 1);
    List<Long> elected = new ArrayList<>(result.leaderMillis());
    Collections.sort(elected);
    long electedMedian = elected.get(elected.size() / 2);
    var out = spec.commandLine().getOut();
    if (json) {
      out.printf(
          Locale.ROOT,
          "{\"rounds\":%d,\"load\":%d,\"leaderWatch\":%b,\"failoverMillis\":%s,\"median\":%d,\"p90\":%d,\"max\":%d,"
              + "\"leaderMillis\":%s,\"leaderMedian\":%d,\"committed\":%d,\"notCommitted\":%d}%n",
          rounds,
          load,
          !noLeaderWatch,
          result.failoverMillis(),
          median,
          p90,
          max,
          result.leaderMillis(),
          electedMedian,
          result.committed(),
          result.notCommitted());
    } else {
      out.printf(
          Locale.ROOT,
          "decree bench-failover: %d leader kills (kill -9 -> first later COMMITTED),"
              + " election timeout %s ms%s, %d background clients%n"
              + "  failover   median %d ms  p90 %d ms  max %d ms%n"
              + "  rounds     %s ms%n"
              + "  new leader median %d ms after the kill (rounds %s ms)%n"
              + "  commits    %d committed, %d not (refused or unknown during failover)%n"
              + "  logs       %s%n",
          rounds,
          electionTimeout,
          noLeaderWatch ? ", no leader watch" : "",
          load,
          median,
          p90,
          max,
          result.failoverMillis(),
          electedMedian,
          result.leaderMillis(),
          result.committed(),
          result.notCommitted(),
          root);
    }
    out.flush();
    return 0;
  }
}
