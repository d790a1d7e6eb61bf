package dev.conveyor.app.cli;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import io.grpc.CallCredentials;
import io.grpc.ManagedChannel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** --server and --token-file, shared by commands that talk to a running 'conveyor serve'. */
public final class ServerOption {
  @Option(names = "--server", paramLabel = "HOST:PORT", defaultValue = "${env:CONVEYOR_SERVER:-127.0.0.1:7420}",
      description = "The control plane to talk to (default: ${DEFAULT-VALUE}).")
  String server;

  @Option(names = "--token-file", paramLabel = "FILE", defaultValue = "conveyor-data/local-token",
      description = "Bearer token file (default: the embedded server's ${DEFAULT-VALUE}).")
  Path tokenFile;

  public String server() {
    return server;
  }

  public ManagedChannel channel() {
    return channel(false);
  }

  /** For a long-running worker: the channel pings, so a connection the network dropped is replaced. */
  public ManagedChannel workerChannel() {
    return channel(true);
  }

  private ManagedChannel channel(boolean longLived) {
    int colon = server.lastIndexOf(':');
    if (colon <= 0) {
      throw new IllegalArgumentException("--server must be HOST:PORT, got '" + server + "'");
    }
    int port;
    try {
      port = Integer.parseInt(server.substring(colon + 1));
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("--server port must be a number, got '" + server + "'");
    }
    return new CliChannel(server.substring(0, colon), port, longLived);
  }

  /**
   * For long-running clients (workers): the token file followed, re-read when it changes, and waited for when it
   * does not exist yet.
   */
  public TokenFile followedTokenFile() {
    return new TokenFile(tokenFile);
  }

  /** Credentials from the token file, or none when there is no such file (a server with --auth NONE). */
  public CallCredentials credentials() {
    if (!Files.exists(tokenFile)) {
      return null;
    }
    try {
      String token = LocalToken.read(tokenFile);
      return new BearerCredentials(() -> token);
    } catch (IOException e) {
      throw new UserError("cannot read the token file " + tokenFile + ": " + e.getMessage(),
          "pass --token-file, or run the CLI where 'conveyor serve' keeps its data directory");
    }
  }
}
