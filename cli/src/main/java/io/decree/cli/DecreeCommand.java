package io.decree.cli;

import io.decree.cli.admin.AdminCommand;
import io.decree.cli.admin.AdminException;
import picocli.CommandLine;
import picocli.CommandLine.Command;

/** The {@code decree} command line: one entry point, one subcommand per job. */
@Command(
    name = "decree",
    mixinStandardHelpOptions = true,
    version = "decree 0.1.0-SNAPSHOT",
    description = "A fault-tolerant two-phase-commit transaction coordinator.",
    subcommands = {
      CoordinatorCommand.class,
      AccountServiceCommand.class,
      DemoCommand.class,
      WalBenchCommand.class,
      TransportBenchCommand.class,
      BenchCommand.class,
      FailoverBenchCommand.class,
      AdminCommand.class,
      CommandLine.HelpCommand.class
    })
public final class DecreeCommand implements Runnable {
  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out);
  }

  public static void main(String[] args) {
    System.exit(commandLine().execute(args));
  }

  /**
   * The configured command line; usage errors exit with 2 and a one-line message, as do failures,
   * unless an {@link AdminException} carries its own exit code. {@code --verbose} (or
   * -Ddecree.verbose=true) adds the stack trace.
   */
  public static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new DecreeCommand());
    cli.setExitCodeExceptionMapper(e -> 2);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          String message = e.getMessage() == null ? e.toString() : e.getMessage();
          commandLine.getErr().println("decree: " + message);
          if (Boolean.getBoolean("decree.verbose")
              || parseResult.originalArgs().contains("--verbose")) {
            e.printStackTrace(commandLine.getErr());
          }
          commandLine.getErr().flush();
          return e instanceof AdminException admin ? admin.exitCode() : 2;
        });
    return cli;
  }
}
