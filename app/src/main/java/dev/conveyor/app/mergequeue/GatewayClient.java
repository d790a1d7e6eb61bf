package dev.conveyor.app.mergequeue;

import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.app.cli.ServerOption;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

/** One gateway call from the CLI on a fresh channel with the server's credentials. */
final class GatewayClient {
  private GatewayClient() {}

  static <T> T call(ServerOption server, long deadlineSeconds, Function<GatewayGrpc.GatewayBlockingStub, T> call) {
    var channel = server.channel();
    try {
      var stub = GatewayGrpc.newBlockingStub(channel);
      if (deadlineSeconds > 0) {
        stub = stub.withDeadlineAfter(deadlineSeconds, TimeUnit.SECONDS);
      }
      var creds = server.credentials();
      return call.apply(creds == null ? stub : stub.withCallCredentials(creds));
    } finally {
      channel.shutdownNow();
    }
  }
}
