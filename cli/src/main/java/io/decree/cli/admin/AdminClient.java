package io.decree.cli.admin;

import io.decree.core.TxId;
import io.decree.proto.v1.CoordinatorAdminGrpc;
import io.decree.proto.v1.NodeStatus;
import io.decree.proto.v1.NodeStatusRequest;
import io.decree.proto.v1.ParticipantAdminGrpc;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * The admin commands' gRPC plumbing: one channel per address, a deadline on every call, and gRPC
 * failures turned into one-line {@link AdminException}s that name what failed.
 */
final class AdminClient implements AutoCloseable {
  private static final Pattern ADDRESS = Pattern.compile("[A-Za-z0-9.\\-\\[\\]:]+:\\d{1,5}");

  private final long timeoutMillis;
  private final Map<String, ManagedChannel> channels = new LinkedHashMap<>();

  AdminClient(long timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
  }

  long timeoutMillis() {
    return timeoutMillis;
  }

  /** A coordinator that answered, and what it said about itself. */
  record Coordinator(String address, NodeStatus status, long answeredInMillis) {}

  /** Validates a host:port given on the command line. */
  static String address(String what, String address) {
    String a = address.trim();
    if (!ADDRESS.matcher(a).matches()) {
      throw new AdminException(
          AdminException.USAGE_OR_CONNECTION,
          "bad " + what + " address '" + address + "' (expected HOST:PORT)");
    }
    return a;
  }

  static TxId txId(String text) {
    try {
      return TxId.parse(text);
    } catch (IllegalArgumentException e) {
      throw new AdminException(AdminException.USAGE_OR_CONNECTION, e.getMessage(), e);
    }
  }

  CoordinatorAdminGrpc.CoordinatorAdminBlockingStub coordinatorAdmin(String address) {
    return CoordinatorAdminGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  ParticipantAdminGrpc.ParticipantAdminBlockingStub participantAdmin(String address) {
    return ParticipantAdminGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  io.grpc.health.v1.HealthGrpc.HealthBlockingStub health(String address) {
    return io.grpc.health.v1.HealthGrpc.newBlockingStub(channel(address))
        .withDeadlineAfter(timeoutMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * The coordinator that leads: the first of {@code addresses} that says LEADER, or the leader a
   * follower names. A single node always leads. When members answer but none leads (no quorum), the
   * error says what they reported.
   */
  Coordinator firstCoordinator(List<String> addresses) {
    List<String> failures = new ArrayList<>();
    boolean anyAnswered = false;
    List<String> toTry = new ArrayList<>();
    addresses.forEach(raw -> toTry.add(address("coordinator", raw)));
    for (int i = 0; i < toTry.size() && i < 16; i++) {
      String address = toTry.get(i);
      long start = System.nanoTime();
      try {
        NodeStatus status =
            coordinatorAdmin(address).getNodeStatus(NodeStatusRequest.getDefaultInstance());
        if (status.getRole().equals("LEADER")) {
          return new Coordinator(
              address, status, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        }
        anyAnswered = true;
        failures.add(address + " (" + status.getRole() + ": " + status.getNotServingReason() + ")");
        String hint = status.getLeaderAddress();
        if (!hint.isEmpty() && !toTry.contains(hint)) {
          toTry.add(hint);
        }
      } catch (StatusRuntimeException e) {
        failures.add(address + " (" + describe(e) + ")");
      }
    }
    throw new AdminException(
        AdminException.USAGE_OR_CONNECTION,
        (anyAnswered ? "no coordinator leads now: " : "cannot reach any coordinator: ")
            + String.join("; ", failures));
  }

  /** The node status of the coordinator at {@code address}, whatever its role. */
  Coordinator coordinatorAt(String raw) {
    String address = address("coordinator", raw);
    long start = System.nanoTime();
    NodeStatus status =
        call(
            "coordinator",
            address,
            () -> coordinatorAdmin(address).getNodeStatus(NodeStatusRequest.getDefaultInstance()));
    return new Coordinator(
        address, status, TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
  }

  /** Runs one call to {@code what} at {@code address}; gRPC failures become one-line errors. */
  <T> T call(String what, String address, Supplier<T> call) {
    try {
      return call.get();
    } catch (StatusRuntimeException e) {
      Status.Code code = e.getStatus().getCode();
      String description = e.getStatus().getDescription();
      String message =
          switch (code) {
            case UNAVAILABLE, DEADLINE_EXCEEDED ->
                "cannot reach " + what + " at " + address + " (" + describe(e) + ")";
            case NOT_FOUND, INVALID_ARGUMENT, FAILED_PRECONDITION ->
                what + " at " + address + ": " + description;
            default -> what + " at " + address + " failed: " + code + ": " + description;
          };
      throw new AdminException(AdminException.USAGE_OR_CONNECTION, message, e);
    }
  }

  static boolean unreachable(StatusRuntimeException e) {
    Status.Code code = e.getStatus().getCode();
    return code == Status.Code.UNAVAILABLE || code == Status.Code.DEADLINE_EXCEEDED;
  }

  static String describe(StatusRuntimeException e) {
    Status s = e.getStatus();
    if (s.getCode() == Status.Code.DEADLINE_EXCEEDED) {
      return "no answer within the deadline";
    }
    String description = s.getDescription();
    if (description == null && s.getCause() != null) {
      description = s.getCause().getMessage();
    }
    return s.getCode() + (description == null ? "" : ": " + oneLine(description));
  }

  private static String oneLine(String text) {
    int newline = text.indexOf('\n');
    return newline < 0 ? text : text.substring(0, newline);
  }

  private ManagedChannel channel(String address) {
    return channels.computeIfAbsent(
        address,
        a ->
            NettyChannelBuilder.forTarget(a)
                .usePlaintext()
                .maxInboundMessageSize(16 * 1024 * 1024)
                .build());
  }

  @Override
  public void close() {
    for (ManagedChannel channel : channels.values()) {
      channel.shutdownNow();
    }
    for (ManagedChannel channel : channels.values()) {
      try {
        channel.awaitTermination(2, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }
}
