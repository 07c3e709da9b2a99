package io.decree.coordinator.grpc;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.core.Message;
import io.decree.core.TxId;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.PrepareRequest;
import io.decree.proto.v1.PrepareResponse;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Bookkeeping of the Exchange stream across the calls that replace each other. */
class ParticipantStreamTest {
  private static final long DEADLINE_MILLIS = 50;

  /** Client callbacks wait here until the test runs them, in the order they were queued. */
  private final LinkedBlockingQueue<Runnable> callbacks = new LinkedBlockingQueue<>();

  private final List<String> failed = new CopyOnWriteArrayList<>();
  private final List<String> replied = new CopyOnWriteArrayList<>();
  private Server server;
  private ManagedChannel channel;

  @AfterEach
  void stop() {
    if (channel != null) {
      channel.shutdownNow();
    }
    if (server != null) {
      server.shutdownNow();
    }
  }

  /** The first Exchange call never answers; later calls answer every prepare YES. */
  private ParticipantStream streamToAParticipantThatStallsOnce() throws IOException {
    AtomicInteger calls = new AtomicInteger();
    String name = InProcessServerBuilder.generateName();
    server =
        InProcessServerBuilder.forName(name)
            .directExecutor()
            .addService(
                new ParticipantGrpc.ParticipantImplBase() {
                  @Override
                  public StreamObserver<ProtocolRequest> exchange(
                      StreamObserver<ProtocolReply> replies) {
                    boolean silent = calls.incrementAndGet() == 1;
                    return new StreamObserver<>() {
                      @Override
                      public void onNext(ProtocolRequest request) {
                        if (!silent) {
                          replies.onNext(
                              ProtocolReply.newBuilder()
                                  .setTxId(request.getPrepare().getTxId())
                                  .setVote(
                                      PrepareResponse.newBuilder()
                                          .setVote(io.decree.proto.v1.Vote.YES))
                                  .build());
                        }
                      }

                      @Override
                      public void onError(Throwable t) {}

                      @Override
                      public void onCompleted() {
                        replies.onCompleted();
                      }
                    };
                  }
                })
            .build()
            .start();
    channel = InProcessChannelBuilder.forName(name).executor(callbacks::add).build();
    return new ParticipantStream(
        channel,
        DEADLINE_MILLIS,
        reply -> replied.add(reply.getTxId()),
        (txId, why) -> failed.add(txId.toString()),
        resend -> {});
  }

  private static void prepare(ParticipantStream stream, TxId txId) {
    stream.send(
        new Message.Prepare(txId, List.of()),
        ProtocolRequest.newBuilder()
            .setPrepare(PrepareRequest.newBuilder().setTxId(txId.toString()))
            .build());
  }

  /** Runs queued callbacks until {@code done} holds; bounded in count and time. */
  private void runCallbacksUntil(java.util.function.BooleanSupplier done)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    for (int i = 0; i < 10_000 && !done.getAsBoolean() && System.nanoTime() < deadline; i++) {
      Runnable next = callbacks.poll(10, TimeUnit.MILLISECONDS);
      if (next != null) {
        next.run();
      }
    }
  }

  @Test
  void theLateEndOfAReplacedStreamFailsOnlyWhatWaitedOnIt() throws Exception {
    ParticipantStream stream = streamToAParticipantThatStallsOnce();
    TxId first = new TxId(1_700_000_000_000L, 1, 1);
    TxId second = new TxId(1_700_000_000_000L, 1, 2);

    prepare(stream, first); // on the first call, which never answers
    Thread.sleep(DEADLINE_MILLIS * 3);
    // The silence check cancels the first call and opens a second one for this request. The
    // first call's end is queued before anything of the second call.
    prepare(stream, second);

    runCallbacksUntil(() -> replied.contains(second.toString()) && !failed.isEmpty());
    assertThat(failed).containsExactly(first.toString());
    assertThat(replied).containsExactly(second.toString());
  }

  @Test
  void aRequestOnAStreamThatWorksIsNeitherFailedNorLeftWaiting() throws Exception {
    ParticipantStream stream = streamToAParticipantThatStallsOnce();
    TxId first = new TxId(1_700_000_000_000L, 1, 1);
    prepare(stream, first);
    Thread.sleep(DEADLINE_MILLIS * 3);
    Map<String, Boolean> seen = new ConcurrentHashMap<>();
    for (int i = 2; i <= 20; i++) {
      TxId tx = new TxId(1_700_000_000_000L, 1, i);
      seen.put(tx.toString(), true);
      prepare(stream, tx);
    }
    runCallbacksUntil(() -> replied.size() == 19 && failed.size() == 1);
    assertThat(replied).containsExactlyInAnyOrderElementsOf(seen.keySet());
    assertThat(failed).containsExactly(first.toString());
  }
}
