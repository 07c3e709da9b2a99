package io.decree.cli.admin;

import io.decree.proto.v1.ListTransactionsRequest;
import io.decree.proto.v1.ListTransactionsResponse;
import io.decree.proto.v1.TransactionSummary;
import io.decree.proto.v1.TxState;
import java.io.PrintWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code decree admin txn list}: the coordinator's transactions, oldest first. */
@Command(
    name = "list",
    mixinStandardHelpOptions = true,
    description = {
      "List the coordinator's transactions, oldest first (ended ones only with --state ended).",
      "Exit 1 when any listed transaction is in doubt, blocked or has a heuristic alarm."
    })
final class TxnListCommand extends AdminSubcommand {
  @Option(
      names = "--state",
      split = ",",
      paramLabel = "STATE",
      description =
          "Only these: active, preparing, deciding, committing, aborting, ended, in-doubt"
              + " (a participant waits for the decision), blocked (waiting on someone who does"
              + " not answer). Repeatable or comma-separated.")
  List<String> states = new ArrayList<>();

  @Option(
      names = "--older-than",
      converter = DurationConverter.class,
      paramLabel = "DURATION",
      description = "Only transactions created longer ago than this, e.g. 30s, 5m.")
  Duration olderThan;

  @Option(
      names = "--participant",
      paramLabel = "NAME",
      description = "Only transactions this participant (by name) takes part in.")
  String participant;

  @Option(
      names = "--limit",
      defaultValue = "1000",
      description = "At most this many (default: ${DEFAULT-VALUE}).")
  int limit;

  private static final Map<String, TxState> PLAIN =
      Map.of(
          "active", TxState.ACTIVE,
          "preparing", TxState.PREPARING,
          "deciding", TxState.DECIDING,
          "committing", TxState.COMMITTING,
          "aborting", TxState.ABORTING,
          "ended", TxState.ENDED);

  @Override
  int run(AdminClient client) {
    List<TxState> wanted = new ArrayList<>();
    boolean inDoubt = false;
    boolean blocked = false;
    for (String raw : states) {
      String s = raw.trim().toLowerCase(Locale.ROOT);
      if (s.equals("in-doubt")) {
        inDoubt = true;
      } else if (s.equals("blocked")) {
        blocked = true;
      } else if (PLAIN.containsKey(s)) {
        wanted.add(PLAIN.get(s));
      } else {
        throw new AdminException(
            AdminException.USAGE_OR_CONNECTION,
            "unknown state '"
                + raw
                + "' (expected active, preparing, deciding, committing, aborting, ended,"
                + " in-doubt or blocked)");
      }
    }
    if (limit <= 0) {
      throw new AdminException(AdminException.USAGE_OR_CONNECTION, "--limit must be > 0");
    }
    AdminClient.Coordinator coordinator = client.firstCoordinator(options.coordinators);
    ListTransactionsRequest.Builder request =
        ListTransactionsRequest.newBuilder()
            .setOlderThanMillis(olderThan == null ? 0 : olderThan.toMillis());
    if (participant != null) {
      request.setParticipant(participant);
    }
    ListTransactionsResponse all =
        client.call(
            "coordinator",
            coordinator.address(),
            () -> client.coordinatorAdmin(coordinator.address()).listTransactions(request.build()));
    boolean anyFilter = !wanted.isEmpty() || inDoubt || blocked;
    List<TransactionSummary> shown = new ArrayList<>();
    for (TransactionSummary s : all.getTransactionsList()) {
      boolean match =
          anyFilter
              ? wanted.contains(s.getState())
                  || (inDoubt && Problems.inDoubt(s))
                  || (blocked && Problems.blocked(s))
              : s.getState() != TxState.ENDED || s.getHeuristicAlarm();
      if (match) {
        shown.add(s);
      }
    }
    shown.sort(
        Comparator.comparingLong(TransactionSummary::getCreatedUnixMillis)
            .thenComparing(TransactionSummary::getTxId));
    if (shown.size() > limit) {
      shown = shown.subList(0, limit);
    }
    boolean problems = shown.stream().anyMatch(s -> Problems.inDoubt(s) || Problems.blocked(s));
    if (options.json) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("coordinator", coordinator.address());
      json.put("problems", problems);
      json.put("transactions", shown);
      out().println(Json.of(json));
    } else {
      print(out(), shown, now());
    }
    return problems ? AdminException.PROBLEMS : OK;
  }

  private static void print(PrintWriter out, List<TransactionSummary> shown, long now) {
    if (shown.isEmpty()) {
      out.println("No transactions match.");
      return;
    }
    Text.Table t =
        new Text.Table(
            "TX ID", "STATE", "AGE", "IN STATE", "PARTICIPANTS", "RETRIES", "WAITING FOR / ALARM");
    for (TransactionSummary s : shown) {
      String waiting = s.hasBlocking() ? s.getBlocking().getWaitingFor() : "-";
      if (s.getHeuristicAlarm()) {
        waiting = "ALARM heuristic mixed; " + waiting;
      }
      t.row(
          s.getTxId(),
          s.getState().name() + (Problems.inDoubt(s) ? " (in doubt)" : ""),
          Text.age(Math.max(0, now - s.getCreatedUnixMillis())),
          Text.age(Math.max(0, now - s.getStateSinceUnixMillis())),
          s.getParticipantsCount() == 0 ? "-" : String.join(",", s.getParticipantsList()),
          s.hasBlocking() ? Integer.toString(s.getBlocking().getRetries()) : "-",
          waiting);
    }
    t.print(out, "");
    long inDoubt = shown.stream().filter(Problems::inDoubt).count();
    long alarms = shown.stream().filter(TransactionSummary::getHeuristicAlarm).count();
    out.println(
        shown.size()
            + " transaction(s), "
            + inDoubt
            + " in doubt, "
            + alarms
            + " heuristic alarm(s)");
  }
}
