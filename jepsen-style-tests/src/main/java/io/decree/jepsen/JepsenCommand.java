package io.decree.jepsen;

import io.decree.jepsen.check.Validity;
import io.decree.jepsen.check.Verdict;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code decree jepsen}: one run of the fault-injection suite. Exit 0 valid, 1 invalid, 2 unknown
 * (or the run could not be carried out).
 */
@Command(
    name = "jepsen",
    mixinStandardHelpOptions = true,
    description =
        "Run real coordinator and participant processes under faults, record a history and judge"
            + " it. Exit 0 valid, 1 invalid, 2 unknown.")
public final class JepsenCommand implements Callable<Integer> {
  @Option(names = "--workload", defaultValue = "bank", description = "bank or atomic.")
  String workload;

  @Option(
      names = "--nemesis",
      split = ",",
      defaultValue = "kill,pause,partition,partition-raft,lost-replies,majority",
      description =
          "Faults: kill, kill-leader, kill-coordinator, kill-participant, majority,"
              + " majority-followers, pause,"
              + " partition, partition-raft (links between coordinators only), lost-replies;"
              + " 'none' for none (default: ${DEFAULT-VALUE}).")
  List<String> nemeses;

  @Option(names = "--time", defaultValue = "60s", description = "Workload duration, e.g. 60s, 30m.")
  String time;

  @Option(names = "--recovery", defaultValue = "60s", description = "Recovery window at the end.")
  String recovery;

  @Option(names = "--seed", description = "Seed of the fault schedule and clients (default: time).")
  Long seed;

  @Option(
      names = "--coordinators",
      defaultValue = "3",
      description = "3 (a Raft cluster, the default) or 1 (a single node over its WAL).")
  int coordinators;

  @Option(names = "--participants", defaultValue = "3", description = "Participant services.")
  int participants;

  @Option(names = "--clients", defaultValue = "4", description = "Concurrent client workers.")
  int clients;

  @Option(
      names = "--out",
      defaultValue = "target/jepsen",
      description =
          "Runs go to OUT/<run>, OUT/latest links the newest (default: ${DEFAULT-VALUE}).")
  Path out;

  @Option(
      names = "--fault-switch",
      description =
          "TEST ONLY: NODE=PROPERTY[=VALUE] starts a node with -Ddecree.fault.PROPERTY (e.g."
              + " p1=participant.unsafeVoteBeforeDurable, p1=appendDelayMillis=1500). Repeatable.")
  List<String> faultSwitches = new ArrayList<>();

  @Option(
      names = "--checkpoint-every",
      paramLabel = "RECORDS",
      description =
          "Participants checkpoint their logs, and a single coordinator its decision log, every"
              + " RECORDS records (default: their own); small values put checkpoints between the"
              + " faults.")
  Integer checkpointEvery;

  @Option(
      names = "--keep-fault-switches",
      description = "Keep the fault switches on at the final restart (default: drop them).")
  boolean keepSwitches;

  @Override
  public Integer call() {
    System.setProperty("java.awt.headless", "true");
    List<String> kinds = nemeses.contains("none") ? List.of() : nemeses;
    Map<String, List<String>> jvm = new LinkedHashMap<>();
    for (String s : faultSwitches) {
      String[] parts = s.split("=", 3);
      if (parts.length < 2) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--fault-switch is NODE=PROPERTY[=VALUE], not " + s);
      }
      String value = parts.length == 3 ? parts[2] : "true";
      jvm.computeIfAbsent(parts[0], n -> new ArrayList<>())
          .add("-Ddecree.fault." + parts[1] + "=" + value);
    }
    if (checkpointEvery != null) {
      for (int i = 1; i <= coordinators; i++) {
        jvm.computeIfAbsent("c" + i, n -> new ArrayList<>())
            .add("-Ddecree.coordinator.checkpointEvery=" + checkpointEvery);
      }
      for (int i = 1; i <= participants; i++) {
        jvm.computeIfAbsent("p" + i, n -> new ArrayList<>())
            .add("-Ddecree.participant.checkpointEvery=" + checkpointEvery);
      }
    }
    RunConfig config =
        new RunConfig(
            workload,
            kinds,
            duration(time),
            seed != null ? seed : System.currentTimeMillis(),
            coordinators,
            participants,
            clients,
            duration(recovery),
            out,
            jvm,
            io.decree.jepsen.db.Nemesis.Timing.defaults(),
            keepSwitches);
    JepsenRun.Result result = new JepsenRun(config).run();
    System.out.println();
    for (Verdict v : result.verdicts()) {
      System.out.printf("  %-12s %-8s %s%n", v.checker(), v.validity(), v.summary());
      v.offending().stream().limit(5).forEach(o -> System.out.println("      " + o));
    }
    System.out.println("  operations: " + result.counts());
    System.out.println("  faults:     " + result.faults());
    System.out.println("  " + result.validity() + ": see " + result.dir().resolve("index.html"));
    return result.validity().exitCode();
  }

  /** 90s, 5m, 1h, or plain seconds. */
  static Duration duration(String s) {
    String t = s.trim().toLowerCase(java.util.Locale.ROOT);
    if (t.endsWith("ms")) {
      return Duration.ofMillis(Long.parseLong(t.substring(0, t.length() - 2)));
    }
    char unit = t.charAt(t.length() - 1);
    if (Character.isDigit(unit)) {
      return Duration.ofSeconds(Long.parseLong(t));
    }
    long n = Long.parseLong(t.substring(0, t.length() - 1));
    return switch (unit) {
      case 's' -> Duration.ofSeconds(n);
      case 'm' -> Duration.ofMinutes(n);
      case 'h' -> Duration.ofHours(n);
      default -> throw new IllegalArgumentException("duration like 60s, 30m or 1h, not " + s);
    };
  }

  public static void main(String[] args) {
    CommandLine cli = new CommandLine(new JepsenCommand());
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("decree jepsen: " + e);
          e.printStackTrace(commandLine.getErr());
          return Validity.UNKNOWN.exitCode();
        });
    System.exit(cli.execute(args));
  }
}
