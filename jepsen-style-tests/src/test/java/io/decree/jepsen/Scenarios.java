package io.decree.jepsen;

import io.decree.jepsen.check.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** Shared by the scenario tests: short runs into the module's target/jepsen. */
final class Scenarios {
  static final Path OUT = Path.of("target", "jepsen");

  private Scenarios() {}

  static RunConfig config(String workload, List<String> nemeses, int seconds, long seed) {
    return RunConfig.defaults(workload, nemeses, Duration.ofSeconds(seconds), seed)
        .withOutputRoot(OUT)
        .withRecovery(Duration.ofSeconds(45));
  }

  /** For assertion messages: every verdict and where the run's report is. */
  static String describe(JepsenRun.Result r) {
    return r.validity()
        + " in "
        + r.dir().toAbsolutePath()
        + "\n"
        + r.verdicts().stream().map(Scenarios::line).collect(Collectors.joining("\n"))
        + "\ncounts "
        + r.counts()
        + " faults "
        + r.faults();
  }

  private static String line(Verdict v) {
    return "  "
        + v.checker()
        + " "
        + v.validity()
        + ": "
        + v.summary()
        + v.offending().stream().limit(5).map(o -> "\n      " + o).collect(Collectors.joining());
  }
}
