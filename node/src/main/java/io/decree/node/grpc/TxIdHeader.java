package io.decree.node.grpc;

import io.grpc.Context;
import io.grpc.Metadata;

/** The gRPC metadata header that carries a global transaction id on business calls. */
public final class TxIdHeader {
  private TxIdHeader() {}

  public static final Metadata.Key<String> KEY =
      Metadata.Key.of("decree-tx-id", Metadata.ASCII_STRING_MARSHALLER);

  /** The transaction id of the current server call, set by the participant's interceptor. */
  public static final Context.Key<String> CONTEXT = Context.key("decree-tx-id");
}
