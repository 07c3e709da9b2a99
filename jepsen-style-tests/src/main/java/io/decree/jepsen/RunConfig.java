package io.decree.jepsen;

import io.decree.jepsen.db.Nemesis;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

/**
 * One run of the suite.
 *
 * @param workload bank or atomic
 * @param nemeses fault kinds (see {@link Nemesis}); empty for a fault-free run
 * @param time how long clients and nemesis run
 * @param seed drives the fault schedule and the clients' choices
 * @param coordinators 3 (a cluster: the default) or 1
 * @param participants 3 or more
 * @param clients concurrent client workers
 * @param recovery how long, after healing and restarting everything, branches may take to settle
 * @param outputRoot runs go to outputRoot/&lt;name&gt;, with outputRoot/latest pointing at the
 *     newest
 * @param jvmOptions per node name (c1, p2, ...), extra JVM options: test fault switches
 * @param timing the nemesis schedule's shape
 * @param switchesSurviveFinalRestart whether the final restart keeps the fault switches (a node
 *     that stays broken) or drops them (a bug that struck during the run, then was fixed)
 */
public record RunConfig(
    String workload,
    List<String> nemeses,
    Duration time,
    long seed,
    int coordinators,
    int participants,
    int clients,
    Duration recovery,
    Path outputRoot,
    Map<String, List<String>> jvmOptions,
    Nemesis.Timing timing,
    boolean switchesSurviveFinalRestart) {

  public RunConfig {
    nemeses = List.copyOf(nemeses);
    jvmOptions = Map.copyOf(jvmOptions);
    if (participants < 2) {
      throw new IllegalArgumentException("at least 2 participants");
    }
    if (clients < 1) {
      throw new IllegalArgumentException("at least 1 client");
    }
  }

  public static RunConfig defaults(
      String workload, List<String> nemeses, Duration time, long seed) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        3,
        3,
        4,
        Duration.ofSeconds(60),
        Path.of("target", "jepsen"),
        Map.of(),
        Nemesis.Timing.defaults(),
        false);
  }

  public RunConfig withOutputRoot(Path root) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        coordinators,
        participants,
        clients,
        recovery,
        root,
        jvmOptions,
        timing,
        switchesSurviveFinalRestart);
  }

  public RunConfig withJvmOptions(Map<String, List<String>> options) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        coordinators,
        participants,
        clients,
        recovery,
        outputRoot,
        options,
        timing,
        switchesSurviveFinalRestart);
  }

  public RunConfig withTiming(Nemesis.Timing t) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        coordinators,
        participants,
        clients,
        recovery,
        outputRoot,
        jvmOptions,
        t,
        switchesSurviveFinalRestart);
  }

  public RunConfig withRecovery(Duration r) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        coordinators,
        participants,
        clients,
        r,
        outputRoot,
        jvmOptions,
        timing,
        switchesSurviveFinalRestart);
  }

  public RunConfig withCoordinators(int n) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        n,
        participants,
        clients,
        recovery,
        outputRoot,
        jvmOptions,
        timing,
        switchesSurviveFinalRestart);
  }

  public RunConfig withSeed(long s) {
    return new RunConfig(
        workload,
        nemeses,
        time,
        s,
        coordinators,
        participants,
        clients,
        recovery,
        outputRoot,
        jvmOptions,
        timing,
        switchesSurviveFinalRestart);
  }

  public RunConfig withSwitchesSurvivingFinalRestart() {
    return new RunConfig(
        workload,
        nemeses,
        time,
        seed,
        coordinators,
        participants,
        clients,
        recovery,
        outputRoot,
        jvmOptions,
        timing,
        true);
  }
}
