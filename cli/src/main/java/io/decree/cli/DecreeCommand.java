package io.decree.cli;

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
      BenchCommand.class,
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

  /** The configured command line; usage errors exit with 2 and a one-line message. */
  static CommandLine commandLine() {
    CommandLine cli = new CommandLine(new DecreeCommand());
    cli.setExitCodeExceptionMapper(e -> 2);
    cli.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          commandLine.getErr().println("decree: " + e.getMessage());
          if (Boolean.getBoolean("decree.verbose")) {
            e.printStackTrace(commandLine.getErr());
          }
          return 2;
        });
    return cli;
  }
}
