package io.decree.coordinator.grpc;

import io.decree.core.Message;
import io.decree.core.TxId;
import io.decree.proto.v1.ParticipantGrpc;
import io.decree.proto.v1.ProtocolReply;
import io.decree.proto.v1.ProtocolRequest;
import io.grpc.Channel;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.BiConsumer;
import java.util.function.Consumer;

/**
 * The {@code Participant.Exchange} stream to one participant: many transactions' prepares and
 * decisions on one call instead of a call each. Opened on first use and again after it breaks. A
 * request whose reply never comes is retried by the core's own timers, as a lost unary call would
 * be; when the stream breaks, each transaction with a request still unanswered hears the error, for
 * its status. The one resend here: a participant without Exchange (UNIMPLEMENTED) gets what was
 * sent before that was known again, as unary calls.
 *
 * <p>At most {@link #UNANSWERED_MAX} transactions wait on one stream; beyond that a send fails at
 * once (a participant that stopped reading must not make the coordinator buffer without end).
 *
 * <p>A stream that carries requests but has brought no reply for longer than the RPC deadline is
 * cancelled at the next send, and the send after that opens a new one: without this, a participant
 * whose stream stalled (a stuck handler, a connection the keepalive has not caught yet) would have
 * every retry sent into the same silent call, where a unary call would have failed its deadline.
 */
final class ParticipantStream {
  static final int UNANSWERED_MAX = 8_192;

  private final Channel channel;
  private final long silenceMaxNanos;
  private final Consumer<ProtocolReply> onReply;
  private final BiConsumer<TxId, String> onFailed;
  private final Consumer<List<Message>> onUnsupported;
  private Call current; // guarded by this; null: no stream open

  /**
   * Since when the open stream has waited for a reply without one: set at open, at each reply, and
   * when a request is sent while none waited. Guarded by this.
   */
  private long quietSinceNanos;

  private volatile boolean unsupported;

  /**
   * Until the participant has answered once on a stream, what was sent on it: if it turns out to
   * have no Exchange, these go again as unary calls (some, like the abort of an unprepared branch,
   * are sent only once). Guarded by this; null once the stream is known to work.
   */
  private List<Message> beforeFirstReply = new ArrayList<>();

  /**
   * @param onReply every reply, on a transport thread
   * @param onFailed a transaction whose request could not be sent or got no reply
   * @param onUnsupported the participant has no Exchange: the messages sent before that was known
   */
  ParticipantStream(
      Channel channel,
      long deadlineMillis,
      Consumer<ProtocolReply> onReply,
      BiConsumer<TxId, String> onFailed,
      Consumer<List<Message>> onUnsupported) {
    this.channel = channel;
    this.silenceMaxNanos = TimeUnit.MILLISECONDS.toNanos(deadlineMillis);
    this.onReply = onReply;
    this.onFailed = onFailed;
    this.onUnsupported = onUnsupported;
  }

  /** The participant has no Exchange (UNIMPLEMENTED): its caller should use the unary calls. */
  boolean unsupported() {
    return unsupported;
  }

  void send(Message message, ProtocolRequest request) {
    TxId txId = message.txId();
    synchronized (this) {
      Call call = current;
      if (call != null
          && !call.unanswered.isEmpty()
          && System.nanoTime() - quietSinceNanos > silenceMaxNanos) {
        // Cancelling ends the call: its end fails what waits on it (and only that).
        call.requests.onError(
            Status.DEADLINE_EXCEEDED
                .withDescription(
                    "no reply on the stream for over "
                        + TimeUnit.NANOSECONDS.toMillis(silenceMaxNanos)
                        + " ms")
                .asRuntimeException());
        current = call = null; // a cancelled call takes no more messages; its end may come later
      }
      if (call != null
          && call.unanswered.size() >= UNANSWERED_MAX
          && !call.unanswered.contains(txId)) {
        onFailed.accept(
            txId,
            "RESOURCE_EXHAUSTED: "
                + UNANSWERED_MAX
                + " transactions already wait for this participant's replies");
        return;
      }
      if (call == null) {
        Call opened = new Call();
        opened.requests = ParticipantGrpc.newStub(channel).exchange(opened);
        if (opened.ended) {
          // The call failed at once, on this thread (the channel is down or backing off). Keeping
          // it would send every later request into a closed call; the next send tries a new one.
          onFailed.accept(txId, opened.why);
          return;
        }
        current = call = opened;
        quietSinceNanos = System.nanoTime();
      } else if (call.unanswered.isEmpty()) {
        quietSinceNanos = System.nanoTime();
      }
      call.unanswered.add(txId);
      if (beforeFirstReply != null && beforeFirstReply.size() < UNANSWERED_MAX) {
        beforeFirstReply.add(message);
      }
      call.requests.onNext(request);
    }
  }

  /** Ends the stream (the coordinator stops or steps down). */
  synchronized void close() {
    if (current != null) {
      try {
        current.requests.onCompleted();
      } catch (IllegalStateException alreadyCancelled) {
        // the call broke first; nothing to end
      }
      current = null;
    }
  }

  /**
   * One Exchange call: its requests side, and the transactions that wait on it. A call's end fails
   * only its own waiters, so the late end of a call already replaced cannot touch the next one's.
   */
  private final class Call implements StreamObserver<ProtocolReply> {
    private final Set<TxId> unanswered = ConcurrentHashMap.newKeySet();
    private StreamObserver<ProtocolRequest> requests;
    private volatile boolean ended;
    private volatile String why = "";

    @Override
    public void onNext(ProtocolReply reply) {
      synchronized (ParticipantStream.this) {
        beforeFirstReply = null; // it speaks Exchange
        if (current == this) {
          quietSinceNanos = System.nanoTime();
        }
      }
      try {
        unanswered.remove(TxId.parse(reply.getTxId()));
      } catch (IllegalArgumentException notAnId) {
        // an error reply for a request without a usable id; nothing was waiting under it
      }
      onReply.accept(reply);
    }

    @Override
    public void onError(Throwable t) {
      Status status = Status.fromThrowable(t);
      if (status.getCode() == Status.Code.UNIMPLEMENTED) {
        List<Message> resend;
        synchronized (ParticipantStream.this) {
          why = "the participant has no Exchange stream";
          ended = true;
          unsupported = true;
          resend = beforeFirstReply == null ? List.of() : List.copyOf(beforeFirstReply);
          beforeFirstReply = null;
          if (current == this) {
            current = null;
          }
        }
        unanswered.clear();
        onUnsupported.accept(resend);
        return;
      }
      ended(
          "stream "
              + status.getCode()
              + (status.getDescription() == null ? "" : ": " + status.getDescription()));
    }

    @Override
    public void onCompleted() {
      ended("stream ended by the participant");
    }

    private void ended(String why) {
      synchronized (ParticipantStream.this) {
        this.why = why;
        ended = true;
        if (current == this) {
          current = null; // the next send opens a new stream
        }
      }
      List<TxId> waiting = List.copyOf(unanswered);
      unanswered.clear();
      waiting.forEach(txId -> onFailed.accept(txId, why));
    }
  }
}
