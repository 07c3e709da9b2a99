package io.decree.cli.process;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import io.decree.cli.DecreeCommand;
import io.decree.core.Outcome;
import io.decree.proto.v1.BranchStatus;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The admin CLI, run in-process ({@code DecreeCommand.commandLine().execute(...)}) against a real
 * coordinator and account services in their own JVMs: in-doubt transactions listed and explained, a
 * contradicting resolve refused, an operator's forced outcome recorded durably (surviving a
 * restart) and, when the real decision differs, reported as an alarm on both sides.
 */
class AdminProcessTest {
  private static final Duration WAIT = Duration.ofSeconds(60);
  private static final String IGNORE_DECISIONS = "-Ddecree.fault.participant.ignoreDecisions=true";
  private static final String HALT_AFTER_DECISION =
      "-Ddecree.fault.coordinator.haltAfterDecision=true";

  // Kept when a test fails: the child processes' logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  private ProcessCluster cluster;

  @AfterEach
  void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  /** One CLI run: its exit code and what it printed. */
  record Run(int code, String out, String err) {}

  static Run admin(String... args) {
    CommandLine cli = DecreeCommand.commandLine();
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    cli.setOut(new PrintWriter(out, true));
    cli.setErr(new PrintWriter(err, true));
    List<String> all = new ArrayList<>(List.of("admin"));
    all.addAll(List.of(args));
    int code = cli.execute(all.toArray(String[]::new));
    return new Run(code, out.toString(), err.toString());
  }

  private Run coordinatorAdmin(String... args) {
    List<String> all = new ArrayList<>(List.of(args));
    all.addAll(List.of("--coordinator", cluster.coordinatorAddress));
    return admin(all.toArray(String[]::new));
  }

  @Test
  void blockedTransactionIsListedAndExplainedAndAContradictingResolveIsRefused() {
    cluster = new ProcessCluster(dir, List.of(), List.of(IGNORE_DECISIONS), List.of());
    String tx = cluster.beginTransfer(10);
    assertThat(cluster.client.commit(tx).outcome()).isEqualTo(Outcome.COMMITTED);

    // accounts-a never hears the decision: the coordinator retries phase 2 and says so.
    await()
        .atMost(WAIT)
        .until(() -> coordinatorAdmin("txn", "list", "--state", "blocked").out().contains(tx));
    Run list = coordinatorAdmin("txn", "list", "--state", "in-doubt", "--older-than", "0s");
    assertThat(list.code()).isEqualTo(1);
    assertThat(list.out()).contains(tx, "COMMITTING", "acks from accounts-a");

    Run json = coordinatorAdmin("txn", "list", "--state", "in-doubt,blocked", "--json");
    assertThat(json.code()).isEqualTo(1);
    JsonObject listed = JsonParser.parseString(json.out()).getAsJsonObject();
    assertThat(listed.get("problems").getAsBoolean()).isTrue();
    assertThat(
            listed
                .getAsJsonArray("transactions")
                .get(0)
                .getAsJsonObject()
                .get("txId")
                .getAsString())
        .isEqualTo(tx);
    assertThat(coordinatorAdmin("txn", "list", "--participant", "nobody").out())
        .contains("No transactions match");

    Run show = coordinatorAdmin("txn", "show", tx);
    assertThat(show.code()).isEqualTo(1);
    assertThat(show.out())
        .contains("COMMITTED, durable at", "waiting for: acks from accounts-a", "retries:")
        .contains("accounts-a", "accounts-b", "YES", "Timeline:", "deciding COMMIT");
    JsonObject shown =
        JsonParser.parseString(coordinatorAdmin("txn", "show", tx, "--json").out())
            .getAsJsonObject();
    assertThat(shown.getAsJsonObject("transaction").get("decision").getAsString())
        .isEqualTo("COMMITTED");

    Run branches = admin("participant", "status", "--participant", cluster.a.address());
    assertThat(branches.code()).isEqualTo(1);
    assertThat(branches.out())
        .contains(tx, "PREPARED", "waiting for: decision from the coordinator");

    // The decision log holds COMMIT: forcing ABORT is refused and changes nothing.
    Run refused =
        coordinatorAdmin(
            "txn",
            "resolve",
            tx,
            "--abort",
            "--reason",
            "wrong guess",
            "--participant",
            cluster.a.address());
    assertThat(refused.code()).isEqualTo(1);
    assertThat(refused.out()).contains("REFUSED", "holds COMMITTED", "Nothing was changed");
    assertThat(cluster.state(cluster.a, tx)).isEqualTo("PREPARED");

    // Forcing the logged outcome is allowed, recorded as heuristic, and ends the transaction.
    Run forced =
        coordinatorAdmin(
            "txn",
            "resolve",
            tx,
            "--commit",
            "--reason",
            "phase 2 stuck; log says COMMIT",
            "--participant",
            cluster.a.address(),
            "--json");
    assertThat(forced.code()).isEqualTo(0);
    assertThat(JsonParser.parseString(forced.out()).getAsJsonObject().get("result").getAsString())
        .isEqualTo("DONE");
    await().atMost(WAIT).until(() -> cluster.state(cluster.a, tx).equals("COMMITTED"));
    BranchStatus a = cluster.branch(cluster.a, tx).orElseThrow();
    assertThat(a.getHeuristic().getReason()).isEqualTo("phase 2 stuck; log says COMMIT");
    assertThat(a.getHeuristic().getAlarm()).isFalse();
    await().atMost(WAIT).until(() -> coordinatorAdmin("txn", "show", tx).out().contains("ENDED"));
    assertThat(coordinatorAdmin("txn", "show", tx).code()).isEqualTo(0);
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(90);

    // Errors: one line naming what failed, exit 2, no stack trace.
    Run malformed = coordinatorAdmin("txn", "show", "not-a-tx-id");
    assertThat(malformed.code()).isEqualTo(2);
    assertThat(malformed.err()).contains("malformed transaction id 'not-a-tx-id'");
    assertThat(malformed.err().lines().count()).isEqualTo(1);
    Run unknown = coordinatorAdmin("txn", "show", "000000000001-00000000-00000001");
    assertThat(unknown.code()).isEqualTo(2);
    assertThat(unknown.err()).contains("holds no transaction").doesNotContain("\tat ");
    Run unreachable = admin("txn", "list", "--coordinator", "127.0.0.1:1", "--timeout", "2s");
    assertThat(unreachable.code()).isEqualTo(2);
    assertThat(unreachable.err()).contains("cannot reach any coordinator", "127.0.0.1:1");
    assertThat(unreachable.err().lines().count()).isEqualTo(1);
    // The first address that answers is used.
    assertThat(
            admin("txn", "show", tx, "--coordinator", "127.0.0.1:1," + cluster.coordinatorAddress)
                .code())
        .isEqualTo(0);
    Run badParticipant = admin("participant", "status", "--participant", "nowhere");
    assertThat(badParticipant.code()).isEqualTo(2);
    assertThat(badParticipant.err()).contains("bad participant address 'nowhere'");

    Run status = coordinatorAdmin("cluster", "status");
    assertThat(status.code()).isEqualTo(0);
    assertThat(status.out())
        .contains("Mode: single-node", "LEADER", "SERVING", "heuristic alarms: 0");
    assertThat(
            JsonParser.parseString(coordinatorAdmin("cluster", "status", "--json").out())
                .getAsJsonObject()
                .get("mode")
                .getAsString())
        .isEqualTo("single-node");
    Run addMember = coordinatorAdmin("cluster", "add-member", "n4", "127.0.0.1:7001");
    assertThat(addMember.code()).isEqualTo(2);
    assertThat(addMember.err()).contains("single node");
    Run completion = admin("completion");
    assertThat(completion.code()).isEqualTo(0);
    assertThat(completion.out()).contains("complete", "resolve");
    Run help = admin("txn", "resolve", "--help");
    assertThat(help.code()).isEqualTo(0);
    assertThat(help.out()).contains("--reason", "--participant");
    assertThat(admin("txn", "resolve", tx, "--commit").code()).isEqualTo(2);
  }

  @Test
  void operatorForcesABranchWhileTheCoordinatorIsDownAndAMismatchRaisesAnAlarm() {
    // The coordinator dies the moment COMMIT is durable: both branches prepared, in doubt.
    cluster = new ProcessCluster(dir, List.of(HALT_AFTER_DECISION), List.of(), List.of());
    String tx = cluster.beginTransfer(10);
    assertThat(cluster.client.commit(tx).outcome()).isEqualTo(Outcome.UNKNOWN);
    await().atMost(WAIT).until(() -> !cluster.coordinator.alive());

    // Seen from the participant, with the coordinator down.
    await()
        .atMost(WAIT)
        .until(
            () ->
                cluster
                    .branch(cluster.a, tx)
                    .map(b -> b.getBlocking().getRetries() >= 1)
                    .orElse(false));
    Run inDoubt = admin("participant", "status", "--participant", cluster.a.address());
    assertThat(inDoubt.code()).isEqualTo(1);
    assertThat(inDoubt.out()).contains(tx, "PREPARED", "coordinator", "accounts-b", "retries:");
    JsonObject json =
        JsonParser.parseString(
                admin("participant", "status", "--participant", cluster.a.address(), "--json")
                    .out())
            .getAsJsonObject();
    assertThat(json.get("inDoubt").getAsInt()).isEqualTo(1);

    // Forced while the decision log cannot be asked: allowed (no participant shows COMMIT),
    // with a warning. It is the wrong guess: the log holds COMMIT.
    Run forced =
        coordinatorAdmin(
            "txn",
            "resolve",
            tx,
            "--abort",
            "--reason",
            "ops ticket 42: customer cancelled",
            "--participant",
            cluster.a.address(),
            "--timeout",
            "2s");
    assertThat(forced.code()).isEqualTo(0);
    assertThat(forced.err()).contains("warning: no coordinator answered");
    assertThat(forced.out()).contains("FORCED", "accounts-a");
    await().atMost(WAIT).until(() -> cluster.state(cluster.a, tx).equals("ABORTED"));

    // The heuristic record survives a restart of the participant.
    cluster.a.kill();
    cluster.restartWithoutFaults(cluster.a);
    BranchStatus afterRestart = cluster.branch(cluster.a, tx).orElseThrow();
    assertThat(afterRestart.getState()).isEqualTo("ABORTED");
    assertThat(afterRestart.getHeuristic().getReason())
        .isEqualTo("ops ticket 42: customer cancelled");
    assertThat(cluster.balance(cluster.a, "alice")).isEqualTo(100);

    // The coordinator comes back and drives COMMIT: accounts-b commits, accounts-a applied
    // ABORT: heuristic mixed. Both sides say so; nobody crashes.
    cluster.restartWithoutFaults(cluster.coordinator);
    await().atMost(WAIT).until(() -> cluster.state(cluster.b, tx).equals("COMMITTED"));
    await()
        .atMost(WAIT)
        .until(
            () ->
                admin("participant", "status", "--participant", cluster.a.address())
                    .out()
                    .contains("ALARM"));
    Run participantAlarm = admin("participant", "status", "--participant", cluster.a.address());
    assertThat(participantAlarm.code()).isEqualTo(1);
    assertThat(participantAlarm.out())
        .contains("HEURISTIC", "ops ticket 42", "decision:    COMMITTED", "1 heuristic alarm");

    await().atMost(WAIT).until(() -> coordinatorAdmin("txn", "show", tx).out().contains("ALARM"));
    Run show = coordinatorAdmin("txn", "show", tx);
    assertThat(show.code()).isEqualTo(1);
    assertThat(show.out()).contains("ALARM", "accounts-a applied ABORTED", "decision is COMMITTED");
    Run list = coordinatorAdmin("txn", "list");
    assertThat(list.code()).isEqualTo(1);
    assertThat(list.out()).contains(tx, "ALARM");
    Run status = coordinatorAdmin("cluster", "status");
    assertThat(status.code()).isEqualTo(1);
    assertThat(status.out()).contains("heuristic alarms: 1");
    assertThat(cluster.coordinator.alive()).isTrue();
    assertThat(cluster.a.alive()).isTrue();

    // Forcing again, the other way, is refused: the log holds COMMIT now.
    Run again =
        coordinatorAdmin(
            "txn",
            "resolve",
            tx,
            "--commit",
            "--reason",
            "undo",
            "--participant",
            cluster.a.address());
    assertThat(again.code()).isEqualTo(1);
    assertThat(again.out()).contains("REFUSED");
  }
}
