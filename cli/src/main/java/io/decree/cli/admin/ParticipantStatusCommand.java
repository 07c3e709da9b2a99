package io.decree.cli.admin;

import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.HeuristicDecision;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.ListBranchesResponse;
import io.decree.proto.v1.Outcome;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code decree admin participant status}: a participant's in-doubt and heuristic branches. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "A participant's in-doubt branches with their evidence (what each waits for, since when,"
          + " last contact with the coordinator and each peer, retries, next retry) and every"
          + " branch an operator forced (heuristic), with any alarm. Works while the coordinator"
          + " is down.",
      "Exit 1 when a branch is in doubt or has a heuristic alarm."
    })
final class ParticipantStatusCommand extends AdminSubcommand {
  @Option(
      names = "--participant",
      required = true,
      paramLabel = "HOST:PORT",
      description = "The participant's address.")
  String participant;

  @Option(names = "--all", description = "Show every branch it remembers, not only the above.")
  boolean all;

  @Override
  int run(AdminClient client) {
    String address = AdminClient.address("participant", participant);
    ListBranchesResponse response =
        client.call(
            "participant",
            address,
            () ->
                client
                    .participantAdmin(address)
                    .listBranches(ListBranchesRequest.getDefaultInstance()));
    List<BranchStatus> shown = new ArrayList<>();
    int inDoubt = 0;
    int alarms = 0;
    for (BranchStatus b : response.getBranchesList()) {
      boolean doubt = b.hasBlocking();
      boolean alarm = b.hasHeuristic() && b.getHeuristic().getAlarm();
      inDoubt += doubt ? 1 : 0;
      alarms += alarm ? 1 : 0;
      if (all || doubt || b.hasHeuristic()) {
        shown.add(b);
      }
    }
    if (options.json) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("participant", response.getParticipant());
      json.put("address", address);
      json.put("inDoubt", inDoubt);
      json.put("heuristicAlarms", alarms);
      json.put("branches", shown);
      out().println(Json.of(json));
    } else {
      print(out(), response.getParticipant(), address, shown, inDoubt, alarms, now());
    }
    return inDoubt > 0 || alarms > 0 ? AdminException.PROBLEMS : OK;
  }

  private static void print(
      PrintWriter out,
      String name,
      String address,
      List<BranchStatus> shown,
      int inDoubt,
      int alarms,
      long now) {
    out.println(
        "Participant "
            + name
            + " at "
            + address
            + ": "
            + inDoubt
            + " in-doubt branch(es), "
            + alarms
            + " heuristic alarm(s)");
    if (shown.isEmpty()) {
      out.println("Nothing in doubt.");
      return;
    }
    for (BranchStatus b : shown) {
      out.println();
      out.println(
          b.getTxId()
              + "  "
              + b.getState()
              + " since "
              + Text.at(b.getStateSinceUnixMillis(), now)
              + (b.getVote().getNumber() == 0 ? "" : ", voted " + b.getVote()));
      if (b.getPeersCount() > 0) {
        List<String> peers = new ArrayList<>();
        b.getPeersList().forEach(p -> peers.add(p.getName() + "@" + p.getAddress()));
        out.println("  participants: " + String.join(", ", peers));
      }
      if (b.hasHeuristic()) {
        HeuristicDecision h = b.getHeuristic();
        out.println(
            "  HEURISTIC:   forced "
                + Text.outcome(h.getOutcome())
                + " by an operator at "
                + Text.at(h.getAtUnixMillis(), now)
                + ": \""
                + h.getReason()
                + "\"");
        String real =
            h.getRealDecision() == Outcome.OUTCOME_UNSPECIFIED
                ? "not known yet" + (h.getNote().isEmpty() ? " (asking the coordinator)" : "")
                : Text.outcome(h.getRealDecision());
        out.println(
            "  decision:    " + real + (h.getNote().isEmpty() ? "" : " (" + h.getNote() + ")"));
        if (h.getAlarm()) {
          out.println(
              "  ALARM:       heuristic mixed: this branch applied "
                  + Text.outcome(h.getOutcome())
                  + ", the transaction's decision is "
                  + Text.outcome(h.getRealDecision())
                  + "; repair the data by hand");
        }
      }
      if (b.hasBlocking()) {
        Text.blocking(out, "  ", b.getBlocking(), now);
      }
    }
  }
}
