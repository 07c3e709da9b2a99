package io.decree.cli.admin;

import io.decree.proto.v1.AddMemberRequest;
import io.decree.proto.v1.ClusterMemberInfo;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.RemoveMemberRequest;
import io.decree.proto.v1.TakeSnapshotRequest;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code decree admin cluster add-member | remove-member | snapshot}. */
final class ClusterMembershipCommand {
  private ClusterMembershipCommand() {}

  /** Membership changes wait for the new member to catch up: a minute, not the call deadline. */
  private static final long CHANGE_DEADLINE_MILLIS = 90_000;

  @Command(
      name = "add-member",
      mixinStandardHelpOptions = true,
      description = {
        "Add a coordinator to the cluster. Start it first with `decree coordinator --join"
            + " --node-id ID --cluster <all members, itself included> ...`; it catches up from the"
            + " log or a snapshot. Returns once the new configuration is committed.",
        "Exit 0 done; 2 refused or not confirmed (the change may still complete: check `cluster"
            + " status`)."
      })
  static final class AddMember extends AdminSubcommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The new member's id, e.g. n4.")
    String memberId;

    @Parameters(
        index = "1",
        paramLabel = "HOST:PORT",
        description = "Its Raft address (the one in its --cluster entry).")
    String raftAddress;

    @Override
    int run(AdminClient client) {
      AddMemberRequest request =
          AddMemberRequest.newBuilder()
              .setMemberId(memberId)
              .setRaftAddress(AdminClient.address("member", raftAddress))
              .build();
      NodeStatus after = atLeader(client, options, admin -> admin.addMember(request));
      out().println("added " + memberId + "; members now: " + members(after));
      return OK;
    }
  }

  @Command(
      name = "remove-member",
      mixinStandardHelpOptions = true,
      description = {
        "Remove a coordinator from the cluster (then stop it). Removing the leader moves"
            + " leadership first. The last member cannot be removed.",
        "Exit 0 done; 2 refused or not confirmed."
      })
  static final class RemoveMember extends AdminSubcommand {
    @Parameters(index = "0", paramLabel = "ID", description = "The member's id, e.g. n3.")
    String memberId;

    @Override
    int run(AdminClient client) {
      AdminClient.Coordinator at = client.firstCoordinator(options.coordinators);
      NodeStatus after =
          client.call(
              "coordinator",
              at.address(),
              () ->
                  client
                      .coordinatorAdmin(at.address())
                      .withDeadlineAfter(CHANGE_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                      .removeMember(
                          RemoveMemberRequest.newBuilder().setMemberId(memberId).build()));
      out().println("removed " + memberId + "; members now: " + members(after));
      return OK;
    }
  }

  @Command(
      name = "snapshot",
      mixinStandardHelpOptions = true,
      description = {
        "Snapshot the decision log at each --coordinator given, now (each member snapshots its"
            + " own applied state; the Raft log is then purged up to it). Members also snapshot"
            + " on their own every 10,000 entries and on a clean stop.",
        "Exit 0 done; 2 when a member refused or did not answer."
      })
  static final class Snapshot extends AdminSubcommand {
    @Override
    int run(AdminClient client) {
      for (String raw : options.coordinators) {
        String address = AdminClient.address("coordinator", raw);
        long index =
            client
                .call(
                    "coordinator",
                    address,
                    () ->
                        client
                            .coordinatorAdmin(address)
                            .withDeadlineAfter(CHANGE_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)
                            .takeSnapshot(TakeSnapshotRequest.getDefaultInstance()))
                .getSnapshotIndex();
        out().println(address + ": snapshot at log index " + index);
      }
      return OK;
    }
  }

  /** A membership change at the leader, with the long deadline a change needs. */
  private static NodeStatus atLeader(
      AdminClient client,
      AdminOptions options,
      Function<CoordinatorAdminGrpc.CoordinatorAdminBlockingStub, NodeStatus> change) {
    AdminClient.Coordinator at = client.firstCoordinator(options.coordinators);
    return client.call(
        "coordinator",
        at.address(),
        () ->
            change.apply(
                client
                    .coordinatorAdmin(at.address())
                    .withDeadlineAfter(CHANGE_DEADLINE_MILLIS, TimeUnit.MILLISECONDS)));
  }

  private static String members(NodeStatus status) {
    return status.getMembersList().stream()
        .map(ClusterMemberInfo::getMemberId)
        .collect(Collectors.joining(", "));
  }
}
