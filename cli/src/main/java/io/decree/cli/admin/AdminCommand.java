package io.decree.cli.admin;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * {@code decree admin}: what an operator needs at 3 a.m. Which transactions are stuck, why, since
 * when, waiting for whom, and what is safe to do. Exit codes: 0 ok, 1 problems found (in doubt,
 * alarms, a refused resolve), 2 usage or connection error. See docs/admin.md.
 */
@Command(
    name = "admin",
    mixinStandardHelpOptions = true,
    description =
        "Inspect and repair transactions (exit 0 ok, 1 problems found, 2 usage/connection).",
    subcommands = {
      AdminCommand.Txn.class,
      AdminCommand.Participant.class,
      AdminCommand.Cluster.class,
      AdminCommand.Completion.class
    })
public final class AdminCommand implements Runnable {
  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(spec.commandLine().getOut());
  }

  /** {@code decree admin txn ...} */
  @Command(
      name = "txn",
      mixinStandardHelpOptions = true,
      description = "Transactions as the coordinator sees them; an operator's forced outcome.",
      subcommands = {TxnListCommand.class, TxnShowCommand.class, TxnResolveCommand.class})
  static final class Txn implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  /** {@code decree admin participant ...} */
  @Command(
      name = "participant",
      mixinStandardHelpOptions = true,
      description = "Branches as a participant sees them (works while the coordinator is down).",
      subcommands = {ParticipantStatusCommand.class})
  static final class Participant implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  /** {@code decree admin cluster ...} */
  @Command(
      name = "cluster",
      mixinStandardHelpOptions = true,
      description = "The coordinator node(s): status, membership, snapshots.",
      subcommands = {
        ClusterStatusCommand.class,
        ClusterMembershipCommand.AddMember.class,
        ClusterMembershipCommand.RemoveMember.class,
        ClusterMembershipCommand.Snapshot.class
      })
  static final class Cluster implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
      spec.commandLine().usage(spec.commandLine().getOut());
    }
  }

  /** Prints a bash/zsh completion script for the whole {@code decree} command line. */
  @Command(
      name = "completion",
      mixinStandardHelpOptions = true,
      description = {
        "Print a bash completion script for decree (zsh: after `autoload bashcompinit`).",
        "Use: source <(bin/decree admin completion)"
      })
  static final class Completion implements Callable<Integer> {
    @Spec CommandSpec spec;

    @Override
    public Integer call() {
      CommandLine root = spec.root().commandLine();
      spec.commandLine().getOut().print(AutoComplete.bash(root.getCommandName(), root));
      spec.commandLine().getOut().flush();
      return 0;
    }
  }
}
