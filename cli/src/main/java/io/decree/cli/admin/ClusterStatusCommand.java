package io.decree.cli.admin;

import io.decree.proto.v1.NodeStatus;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;

/** {@code decree admin cluster status}: each coordinator given, single node or cluster member. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "The coordinator node(s): address, role, reachability, gRPC health, decision-log figures and"
          + " heuristic alarms; for a cluster member also its id, the leader it knows, the term,"
          + " the members and its log indexes. Give every member with --coordinator.",
      "Exit 1 when a node is not SERVING, holds heuristic alarms, or no member leads; 2 when none"
          + " answers."
    })
final class ClusterStatusCommand extends AdminSubcommand {
  @Override
  int run(AdminClient client) {
    List<Map<String, Object>> nodes = new ArrayList<>();
    boolean anyAnswered = false;
    boolean problems = false;
    for (String raw : options.coordinators) {
      String address = AdminClient.address("coordinator", raw);
      Map<String, Object> node = new LinkedHashMap<>();
      node.put("address", address);
      long start = System.nanoTime();
      try {
        NodeStatus status = client.coordinatorAt(address).status();
        node.put("reachable", true);
        node.put("answeredInMillis", (System.nanoTime() - start) / 1_000_000);
        String health;
        try {
          health =
              client
                  .health(address)
                  .check(HealthCheckRequest.getDefaultInstance())
                  .getStatus()
                  .name();
        } catch (StatusRuntimeException e) {
          health = "UNKNOWN (" + AdminClient.describe(e) + ")";
        }
        node.put("health", health);
        node.put("status", status);
        anyAnswered = true;
        problems |=
            !health.equals(HealthCheckResponse.ServingStatus.SERVING.name())
                || status.getHeuristicAlarms() > 0;
      } catch (AdminException unreachable) {
        node.put("reachable", false);
        node.put("error", unreachable.getMessage());
      }
      nodes.add(node);
    }
    String mode =
        nodes.stream()
            .map(n -> n.get("status"))
            .filter(NodeStatus.class::isInstance)
            .map(n -> ((NodeStatus) n).getMode())
            .findFirst()
            .orElse("unknown");
    boolean leaderFound =
        nodes.stream()
            .map(n -> n.get("status"))
            .anyMatch(n -> n instanceof NodeStatus s && s.getRole().equals("LEADER"));
    problems |= anyAnswered && !leaderFound;
    if (options.json) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("mode", mode);
      json.put("leaderFound", leaderFound);
      json.put("nodes", nodes);
      out().println(Json.of(json));
    } else {
      print(out(), mode, leaderFound, nodes, now());
    }
    if (!anyAnswered) {
      return AdminException.USAGE_OR_CONNECTION;
    }
    return problems ? AdminException.PROBLEMS : OK;
  }

  private static void print(
      PrintWriter out,
      String mode,
      boolean leaderFound,
      List<Map<String, Object>> nodes,
      long now) {
    out.println(
        "Mode: "
            + mode
            + (leaderFound
                ? ""
                : "   <- NO LEADER among the nodes asked: decisions cannot be made"));
    for (Map<String, Object> node : nodes) {
      out.println();
      out.println("Node " + node.get("address"));
      if (!Boolean.TRUE.equals(node.get("reachable"))) {
        out.println("  reachable:        NO: " + node.get("error"));
        continue;
      }
      NodeStatus s = (NodeStatus) node.get("status");
      out.println("  reachable:        yes (answered in " + node.get("answeredInMillis") + " ms)");
      out.println("  health:           " + node.get("health"));
      out.println("  role:             " + s.getRole() + " (" + s.getMode() + ")");
      if (!s.getNotServingReason().isEmpty()) {
        out.println("  not serving:      " + s.getNotServingReason());
      }
      if (s.getMode().equals("cluster")) {
        out.println("  member:           " + s.getMemberId() + ", term " + s.getTerm());
        out.println(
            "  leader:           "
                + (s.getLeaderId().isEmpty()
                    ? "none known"
                    : s.getLeaderId() + " at " + s.getLeaderAddress()));
        out.println(
            "  raft log:         applied through "
                + s.getLastAppliedIndex()
                + ", last entry "
                + s.getLastLogIndex()
                + " (term "
                + s.getLastLogTerm()
                + "), starts at "
                + s.getLogStartIndex()
                + (s.getLogStartIndex() > 0 ? " (purged up to a snapshot)" : ""));
        StringBuilder members = new StringBuilder();
        s.getMembersList()
            .forEach(
                m ->
                    members
                        .append(members.length() == 0 ? "" : ", ")
                        .append(m.getMemberId())
                        .append(" raft ")
                        .append(m.getRaftAddress())
                        .append(
                            m.getCoordinatorAddress().isEmpty()
                                ? ""
                                : " grpc " + m.getCoordinatorAddress()));
        out.println("  members:          " + members);
      }
      out.println("  started:          " + Text.at(s.getStartedUnixMillis(), now));
      out.println("  decision log:     " + s.getRecordsReplayed() + " records replayed at start");
      out.println(
          "  transactions:     "
              + s.getTransactionsHeld()
              + " held, "
              + s.getInFlight()
              + " in flight (undecided)");
      out.println(
          "  forgotten before: "
              + (s.getForgottenBeforeUnixMillis() == 0
                  ? "nothing forgotten"
                  : Text.at(s.getForgottenBeforeUnixMillis(), now)));
      out.println(
          "  heuristic alarms: "
              + s.getHeuristicAlarms()
              + (s.getHeuristicAlarms() > 0
                  ? "  <- see: decree admin txn list --state blocked"
                  : ""));
    }
  }
}
