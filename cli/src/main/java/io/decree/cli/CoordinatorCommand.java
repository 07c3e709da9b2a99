package io.decree.cli;

import io.decree.coordinator.CoordinatorNode;
import io.decree.coordinator.CoordinatorOptions;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs one coordinator node until it is stopped. */
@Command(
    name = "coordinator",
    mixinStandardHelpOptions = true,
    description = "Run a single coordinator node with its decision log in --data-dir.")
final class CoordinatorCommand implements java.util.concurrent.Callable<Integer> {
  @Option(names = "--data-dir", required = true, description = "Directory of the decision log.")
  Path dataDir;

  @Option(names = "--port", defaultValue = "7000", description = "gRPC port (0: any free port).")
  int port;

  @Option(
      names = "--bind",
      defaultValue = "127.0.0.1",
      description = "Interface to listen on (default: ${DEFAULT-VALUE}).")
  String bindHost;

  @Override
  public Integer call() throws InterruptedException {
    CoordinatorOptions defaults = CoordinatorOptions.defaults(dataDir, port);
    CoordinatorOptions options =
        new CoordinatorOptions(
            dataDir,
            bindHost,
            port,
            "",
            defaults.protocol(),
            defaults.rpcDeadlineMillis(),
            defaults.decisionTimeoutMillis(),
            defaults.tickMillis(),
            defaults.queueCapacity());
    CoordinatorNode node = CoordinatorNode.start(options);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  node.close();
                  stopped.countDown();
                }));
    // One parseable line, so scripts and tests know where it listens.
    System.out.println("coordinator listening on " + node.address());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
