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

/** {@code decree admin cluster status}: today, the single coordinator node. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = {
      "The coordinator node(s): address, role, reachability, gRPC health, decision-log figures and"
          + " heuristic alarms. Single-node mode for now: members, term and log indexes come with"
          + " the replicated cluster.",
      "Exit 1 when a node is not SERVING or holds heuristic alarms; 2 when none answers."
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
        NodeStatus status = client.firstCoordinator(List.of(address)).status();
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
    if (options.json) {
      Map<String, Object> json = new LinkedHashMap<>();
      json.put("mode", "single-node");
      json.put(
          "note",
          "the replicated coordinator cluster is not built yet: no members, term or log indexes");
      json.put("nodes", nodes);
      out().println(Json.of(json));
    } else {
      print(out(), nodes, now());
    }
    if (!anyAnswered) {
      return AdminException.USAGE_OR_CONNECTION;
    }
    return problems ? AdminException.PROBLEMS : OK;
  }

  private static void print(PrintWriter out, List<Map<String, Object>> nodes, long now) {
    out.println(
        "Mode: single node (the replicated coordinator cluster is not built yet: members, term and"
            + " log indexes come with it)");
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
