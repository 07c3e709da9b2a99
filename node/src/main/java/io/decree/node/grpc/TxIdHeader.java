package io.decree.node.grpc;

import io.grpc.Context;
import io.grpc.Metadata;

/** The gRPC metadata header that carries a global transaction id on business calls. */
public final class TxIdHeader {
  private TxIdHeader() {}

  public static final Metadata.Key<String> KEY =
      Metadata.Key.of("decree-tx-id", Metadata.ASCII_STRING_MARSHALLER);

  /**
   * Sent by a client that enlists participants itself, with its commit ("enlisting on the way
   * back"): the transaction's deadline, in Unix millis. A participant that sees it starts its work
   * without asking the coordinator and names itself in the {@link #ENLISTED} trailer.
   */
  public static final Metadata.Key<String> ENLIST_ON_REPLY =
      Metadata.Key.of("decree-enlist-on-reply", Metadata.ASCII_STRING_MARSHALLER);

  /** The trailer a participant answers {@link #ENLIST_ON_REPLY} with: {@code name=host:port}. */
  public static final Metadata.Key<String> ENLISTED =
      Metadata.Key.of("decree-enlisted", Metadata.ASCII_STRING_MARSHALLER);

  /** The transaction id of the current server call, set by the participant's interceptor. */
  public static final Context.Key<String> CONTEXT = Context.key("decree-tx-id");
}
