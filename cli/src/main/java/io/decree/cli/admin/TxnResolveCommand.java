package io.decree.cli.admin;

import io.decree.core.TxId;
import io.decree.proto.v1.BranchStatus;
import io.decree.proto.v1.ListBranchesRequest;
import io.decree.proto.v1.Outcome;
import io.decree.proto.v1.ParticipantRef;
import io.decree.proto.v1.ResolveBranchRequest;
import io.decree.proto.v1.ResolveBranchResponse;
import io.decree.proto.v1.StatusRequest;
import io.decree.proto.v1.TransactionDetail;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code decree admin txn resolve ID --commit|--abort --reason ... --participant HOST:PORT}: an
 * operator forces the outcome of in-doubt branches (a heuristic decision, PROTOCOL.md rule 4).
 *
 * <p>Refused when the coordinator's decision log (if reachable) or any reachable participant of the
 * transaction already shows the other outcome. Otherwise each named participant records the outcome
 * durably with the reason, applies it, and reports the branch as heuristic from then on. If the
 * real decision later differs, both the participant and the coordinator raise an alarm.
 */
@Command(
    name = "resolve",
    mixinStandardHelpOptions = true,
    description = {
      "Force the outcome of in-doubt branches at the named participants (a heuristic decision,"
          + " recorded with your reason and reported from then on).",
      "Refused when the coordinator's decision log or any reachable participant already shows"
          + " the other outcome. If the real decision later differs, it is a heuristic-mixed"
          + " ALARM.",
      "Exit 0 forced (or already so), 1 refused, 2 usage or connection error."
    })
final class TxnResolveCommand extends AdminSubcommand {
  @Parameters(index = "0", paramLabel = "TX_ID", description = "The transaction id.")
  String id;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Choice choice;

  static final class Choice {
    @Option(names = "--commit", required = true, description = "Force COMMIT.")
    boolean commit;

    @Option(names = "--abort", required = true, description = "Force ABORT.")
    boolean abort;
  }

  @Option(
      names = "--reason",
      required = true,
      paramLabel = "TEXT",
      description = "Why (kept with the branch for the audit; at most 1000 characters).")
  String reason;

  @Option(
      names = "--participant",
      required = true,
      paramLabel = "HOST:PORT",
      description = "A participant whose branch to force; repeat for several.")
  List<String> participants = new ArrayList<>();

  @Override
  int run(AdminClient client) {
    TxId txId = AdminClient.txId(id);
    if (reason.isBlank()) {
      throw new AdminException(AdminException.USAGE_OR_CONNECTION, "--reason must not be blank");
    }
    if (reason.length() > 1_000) {
      throw new AdminException(
          AdminException.USAGE_OR_CONNECTION, "--reason is longer than 1000 characters");
    }
    Outcome wanted = choice.commit ? Outcome.COMMITTED : Outcome.ABORTED;
    Outcome other = choice.commit ? Outcome.ABORTED : Outcome.COMMITTED;
    List<String> targets = new ArrayList<>();
    for (String p : participants) {
      targets.add(AdminClient.address("participant", p));
    }
    Map<String, Object> json = new LinkedHashMap<>();
    json.put("txId", txId.toString());
    json.put("requested", wanted.name());

    // 1. The decision log, if a coordinator answers.
    List<String> checked = new ArrayList<>();
    Optional<String> refusal = Optional.empty();
    try {
      AdminClient.Coordinator coordinator = client.firstCoordinator(options.coordinators);
      try {
        TransactionDetail detail =
            client
                .coordinatorAdmin(coordinator.address())
                .describeTransaction(StatusRequest.newBuilder().setTxId(txId.toString()).build());
        json.put("coordinatorDecision", detail.getDecision().name());
        checked.add(
            "coordinator " + coordinator.address() + ": " + Text.outcome(detail.getDecision()));
        if (detail.getDecision() == other) {
          refusal =
              Optional.of(
                  "the coordinator's decision log at "
                      + coordinator.address()
                      + " holds "
                      + other
                      + " for "
                      + txId);
        }
      } catch (StatusRuntimeException e) {
        if (e.getStatus().getCode() != Status.Code.NOT_FOUND) {
          throw e;
        }
        json.put("coordinatorDecision", "NO_RECORD");
        checked.add("coordinator " + coordinator.address() + ": holds no record of it");
      }
    } catch (AdminException | StatusRuntimeException unreachable) {
      json.put("coordinatorDecision", "UNREACHABLE");
      warn(
          "no coordinator answered ("
              + unreachable.getMessage()
              + "); checking the participants only");
    }

    // 2. Every named participant must answer; their peers are asked too, where reachable.
    Map<String, BranchStatus> branches = new LinkedHashMap<>();
    for (String address : targets) {
      Optional<BranchStatus> branch = branchAt(client, address, txId, true);
      if (branch.isEmpty()) {
        throw new AdminException(
            AdminException.USAGE_OR_CONNECTION,
            "participant at " + address + " holds no branch " + txId);
      }
      branches.put(address, branch.get());
    }
    Set<String> peers = new LinkedHashSet<>();
    branches.values().forEach(b -> b.getPeersList().forEach(p -> peers.add(p.getAddress())));
    peers.removeAll(branches.keySet());
    Map<String, BranchStatus> peerBranches = new LinkedHashMap<>();
    for (String peer : peers) {
      try {
        branchAt(client, peer, txId, false).ifPresent(b -> peerBranches.put(peer, b));
      } catch (AdminException unreachable) {
        warn("peer " + peer + " not checked: " + unreachable.getMessage());
      }
    }
    Map<String, BranchStatus> all = new LinkedHashMap<>(branches);
    all.putAll(peerBranches);
    for (Map.Entry<String, BranchStatus> e : all.entrySet()) {
      BranchStatus b = e.getValue();
      checked.add("participant " + e.getKey() + ": " + b.getState());
      if (refusal.isEmpty() && !b.hasHeuristic() && b.getState().equals(other.name())) {
        refusal = Optional.of("participant at " + e.getKey() + " already " + other + " " + txId);
      }
      if (b.hasHeuristic() && b.getHeuristic().getOutcome() == other) {
        warn("participant at " + e.getKey() + " was forced to " + other + " by an operator");
      }
    }
    json.put("checked", checked);

    if (refusal.isPresent()) {
      String message =
          "REFUSED: "
              + refusal.get()
              + "; forcing "
              + wanted
              + " would contradict it. Nothing was changed.";
      json.put("result", "REFUSED");
      json.put("message", message);
      if (options.json) {
        out().println(Json.of(json));
      } else {
        out().println(message);
      }
      return AdminException.PROBLEMS;
    }

    // 3. Force, participant by participant.
    List<ResolveBranchResponse> results = new ArrayList<>();
    boolean refused = false;
    for (String address : targets) {
      ResolveBranchResponse response =
          client.call(
              "participant",
              address,
              () ->
                  client
                      .participantAdmin(address)
                      .resolveBranch(
                          ResolveBranchRequest.newBuilder()
                              .setTxId(txId.toString())
                              .setOutcome(wanted)
                              .setReason(reason)
                              .build()));
      results.add(response);
      refused |= response.getResult() == ResolveBranchResponse.Result.REFUSED;
    }
    json.put("result", refused ? "REFUSED" : "DONE");
    json.put("results", results);
    if (options.json) {
      out().println(Json.of(json));
    } else {
      for (int i = 0; i < targets.size(); i++) {
        ResolveBranchResponse r = results.get(i);
        out()
            .println(
                r.getResult().name()
                    + " at "
                    + (r.getParticipant().isEmpty() ? "" : r.getParticipant() + " ")
                    + targets.get(i)
                    + ": "
                    + r.getMessage()
                    + (r.hasBranch() ? " (branch now " + r.getBranch().getState() + ")" : ""));
      }
      for (String line : checked) {
        out().println("  checked " + line);
      }
    }
    return refused ? AdminException.PROBLEMS : OK;
  }

  private Optional<BranchStatus> branchAt(
      AdminClient client, String address, TxId txId, boolean required) {
    return client
        .call(
            "participant",
            address,
            () ->
                client
                    .participantAdmin(address)
                    .listBranches(ListBranchesRequest.getDefaultInstance()))
        .getBranchesList()
        .stream()
        .filter(b -> b.getTxId().equals(txId.toString()))
        .findFirst();
  }

  static String name(ParticipantRef ref) {
    return ref.getName();
  }
}
