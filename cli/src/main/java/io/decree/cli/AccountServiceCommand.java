package io.decree.cli;

import io.decree.examples.bank.AccountServer;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Runs the example account service: a participant with a durable key-value store of balances. */
@Command(
    name = "account-service",
    mixinStandardHelpOptions = true,
    description = "Run the example account service (a 2PC participant) until stopped.")
final class AccountServiceCommand implements Callable<Integer> {
  @Option(names = "--name", required = true, description = "Participant name, e.g. accounts-a.")
  String name;

  @Option(names = "--data-dir", required = true, description = "Directory of its logs and store.")
  Path dataDir;

  @Option(names = "--port", defaultValue = "0", description = "gRPC port (0: any free port).")
  int port;

  @Option(names = "--bind", defaultValue = "127.0.0.1", description = "Interface to listen on.")
  String bindHost;

  @Option(
      names = "--coordinator",
      required = true,
      split = ",",
      description = "Coordinator address(es), host:port[,host:port...].")
  List<String> coordinators;

  @Option(
      names = "--checkpoint-every",
      paramLabel = "RECORDS",
      defaultValue = "${sys:decree.participant.checkpointEvery:-300000}",
      description =
          "Checkpoint the participant's log every RECORDS records (default: ${DEFAULT-VALUE});"
              + " older log files are deleted once a checkpoint is durable.")
  int checkpointEvery;

  @Option(
      names = "--account",
      description =
          "Opening balance of an account created on first start: NAME=AMOUNT (repeatable).")
  Map<String, Long> openingBalances = new LinkedHashMap<>();

  @Override
  public Integer call() throws InterruptedException {
    AccountServer server =
        AccountServer.start(
            name, bindHost, port, dataDir, coordinators, openingBalances, checkpointEvery);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime()
        .addShutdownHook(
            new Thread(
                () -> {
                  server.close();
                  stopped.countDown();
                }));
    System.out.println("account service " + name + " listening on " + server.address());
    System.out.flush();
    stopped.await();
    return 0;
  }
}
