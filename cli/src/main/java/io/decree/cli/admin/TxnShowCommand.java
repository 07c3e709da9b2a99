package io.decree.cli.admin;

import io.decree.core.TxId;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.ParticipantProgress;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TransactionDetail;
import io.decree.proto.v1.TransactionEvent;
import io.decree.proto.v1.TransactionSummary;
import io.decree.proto.v1.Vote;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code decree admin txn show ID}: one transaction with its evidence. */
@Command(
    name = "show",
    mixinStandardHelpOptions = true,
    description = {
      "Show a transaction: participants with votes and acks, the decision and when it became"
          + " durable, what it waits for (since when, last contact with each party, retries, next"
          + " retry), heuristic alarms, and its timeline.",
      "Exit 1 when it is in doubt, blocked or has a heuristic alarm."
    })
final class TxnShowCommand extends AdminSubcommand {
  @Parameters(index = "0", paramLabel = "TX_ID", description = "The transaction id.")
  String id;

  @Override
  int run(AdminClient client) {
    TxId txId = AdminClient.txId(id);
    AdminClient.Coordinator coordinator = client.firstCoordinator(options.coordinators);
    TransactionDetail detail =
        client.call(
            "coordinator",
            coordinator.address(),
            () ->
                client
                    .coordinatorAdmin(coordinator.address())
                    .describeTransaction(
                        StatusRequest.newBuilder().setTxId(txId.toString()).build()));
    TransactionSummary s = detail.getSummary();
    boolean problems = Problems.inDoubt(s) || Problems.blocked(s);
    if (options.json) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("coordinator", coordinator.address());
      json.put("inDoubt", Problems.inDoubt(s));
      json.put("blocked", Problems.blocked(s));
      json.put("transaction", detail);
      out().println(Json.of(json));
    } else {
      print(out(), detail, now());
    }
    return problems ? AdminException.PROBLEMS : OK;
  }

  private static void print(PrintWriter out, TransactionDetail d, long now) {
    TransactionSummary s = d.getSummary();
    out.println("Transaction " + s.getTxId());
    out.println(
        "  state:     "
            + s.getState()
            + (Problems.inDoubt(s) ? " (in doubt)" : "")
            + " since "
            + Text.at(s.getStateSinceUnixMillis(), now));
    out.println("  created:   " + Text.at(s.getCreatedUnixMillis(), now));
    out.println(
        "  decision:  "
            + (d.getDecision() == Outcome.OUTCOME_UNSPECIFIED
                ? "none durable yet"
                : Text.outcome(d.getDecision())
                    + ", durable at "
                    + Text.at(d.getDecisionDurableUnixMillis(), now)));
    if (s.getHeuristicAlarm()) {
      for (ParticipantProgress p : d.getParticipantsList()) {
        if (p.getAlarm()) {
          out.println(
              "  ALARM:     heuristic mixed: "
                  + p.getParticipant().getName()
                  + " applied "
                  + Text.outcome(p.getHeuristicOutcome())
                  + " (forced by an operator) but the decision is "
                  + Text.outcome(d.getDecision())
                  + "; phase 2 no longer retries it; repair its data by hand");
        }
      }
    }
    out.println("Participants:");
    if (d.getParticipantsCount() == 0) {
      out.println("  (none)");
    } else {
      Text.Table t =
          new Text.Table(
              "NAME", "ADDRESS", "VOTE", "ACKED", "HEURISTIC", "LAST CONTACT", "LAST ERROR");
      for (ParticipantProgress p : d.getParticipantsList()) {
        t.row(
            p.getParticipant().getName(),
            p.getParticipant().getAddress(),
            p.getVote() == Vote.VOTE_UNSPECIFIED ? "-" : p.getVote().name(),
            p.getAcknowledged() ? "yes" : "no",
            p.getHeuristicOutcome() == Outcome.OUTCOME_UNSPECIFIED
                ? "-"
                : Text.outcome(p.getHeuristicOutcome()) + (p.getAlarm() ? " ALARM" : " (agrees)"),
            Text.relative(p.getContact().getLastSuccessUnixMillis(), now),
            Text.orDash(p.getContact().getLastError()));
      }
      t.print(out, "  ");
    }
    if (s.hasBlocking()) {
      out.println("Blocked:");
      Text.blocking(out, "  ", s.getBlocking(), now);
    }
    out.println("Timeline:");
    for (TransactionEvent e : d.getTimelineList()) {
      out.println("  " + Text.at(e.getAtUnixMillis(), now) + "  " + e.getEvent());
    }
  }
}
