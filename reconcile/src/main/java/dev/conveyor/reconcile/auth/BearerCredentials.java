package dev.conveyor.reconcile.auth;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import io.grpc.Status;
import java.util.concurrent.Executor;
import java.util.function.Supplier;

/** Attaches {@code authorization: Bearer <token>} to each call it is given to. */
public final class BearerCredentials extends CallCredentials {
  private final Supplier<String> tokens;

  public BearerCredentials(Supplier<String> tokens) {
    this.tokens = tokens;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    executor.execute(() -> {
      try {
        Metadata headers = new Metadata();
        headers.put(BearerAuthInterceptor.AUTHORIZATION, "Bearer " + tokens.get());
        applier.apply(headers);
      } catch (RuntimeException e) {
        applier.fail(Status.UNAUTHENTICATED.withDescription("no token: " + e.getMessage()).withCause(e));
      }
    });
  }
}
