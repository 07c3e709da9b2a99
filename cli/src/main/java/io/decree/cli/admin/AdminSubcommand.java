package io.decree.cli.admin;

import java.io.PrintWriter;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/** What every admin command has: the shared options, its output streams, the exit codes. */
abstract class AdminSubcommand implements Callable<Integer> {
  static final int OK = 0;

  @Mixin AdminOptions options;

  @Spec CommandSpec spec;

  PrintWriter out() {
    return spec.commandLine().getOut();
  }

  /** A warning that does not change the exit code; kept off stdout so --json stays parseable. */
  void warn(String line) {
    spec.commandLine().getErr().println("decree: warning: " + line);
  }

  static long now() {
    return System.currentTimeMillis();
  }

  @Override
  public final Integer call() {
    try (AdminClient client = options.client()) {
      int code = run(client);
      out().flush();
      return code;
    }
  }

  abstract int run(AdminClient client);
}
