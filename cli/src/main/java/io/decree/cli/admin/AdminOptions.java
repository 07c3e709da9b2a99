package io.decree.cli.admin;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** Options every admin command shares. */
public final class AdminOptions {
  @Option(
      names = "--coordinator",
      split = ",",
      defaultValue = "127.0.0.1:7000",
      paramLabel = "HOST:PORT",
      description =
          "Coordinator address(es), comma-separated; the first that answers is used"
              + " (default: ${DEFAULT-VALUE}).")
  List<String> coordinators = new ArrayList<>();

  @Option(names = "--json", description = "Print JSON for scripts instead of tables.")
  boolean json;

  @Option(
      names = "--timeout",
      defaultValue = "5s",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "Deadline of each call to a node, e.g. 500ms, 5s (default: ${DEFAULT-VALUE}).")
  java.time.Duration timeout;

  @Option(names = "--verbose", description = "Print stack traces of errors.")
  boolean verbose;

  AdminClient client() {
    return new AdminClient(timeout.toMillis());
  }
}
