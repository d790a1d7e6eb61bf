package dev.conveyor.app.cluster;

import dev.conveyor.app.Main;
import dev.conveyor.ledger.testing.ChildJvm;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** A {@code conveyor serve} in its own JVM, as an operator would start it: killed or stopped like one. */
final class ServeNode implements AutoCloseable {
  private static final Pattern BANNER = Pattern.compile("conveyor: serving gRPC on [^:]+:(\\d+) .*");
  final ChildJvm jvm;
  final int port;
  final ManagedChannel channel;

  final String host;

  private ServeNode(ChildJvm jvm, String host, int port) {
    this.jvm = jvm;
    this.host = host;
    this.port = port;
    this.channel = NettyChannelBuilder.forAddress(host, port).usePlaintext().build();
  }

  /** Starts a node with its own data directory; {@code extra} are more serve flags. */
  static ServeNode start(String ledgerUrl, Path dataDir, Path queues, String... extra) throws Exception {
    return start(java.util.Map.of(), ledgerUrl, dataDir, queues, extra);
  }

  /** As {@link #start(String, Path, Path, String...)}, with {@code env} added to the node's environment. */
  static ServeNode start(java.util.Map<String, String> env, String ledgerUrl, Path dataDir, Path queues,
      String... extra) throws Exception {
    List<String> args = new ArrayList<>(List.of("--ledger", ledgerUrl, "--data-dir", dataDir.toString(),
        "--grpc-port", "0", "--http-port", "0", "--queues", queues.toString()));
    if (!List.of(extra).contains("--auth")) {
      args.addAll(List.of("--auth", "none"));
    }
    args.addAll(List.of(extra));
    return launch(env, "127.0.0.1", args);
  }

  /** Starts {@code conveyor serve ARGS} (every flag given), reached at {@code host}. */
  static ServeNode launch(String host, List<String> serveArgs) throws Exception {
    return launch(java.util.Map.of(), host, serveArgs);
  }

  private static ServeNode launch(java.util.Map<String, String> env, String host, List<String> serveArgs)
      throws Exception {
    List<String> args = new ArrayList<>(List.of("serve"));
    args.addAll(serveArgs);
    ChildJvm jvm = ChildJvm.start(env, Main.class, args.toArray(String[]::new));
    try {
      Matcher m = BANNER.matcher(jvm.awaitLine(l -> BANNER.matcher(l).matches(), Duration.ofSeconds(90)));
      if (!m.matches()) {
        throw new IllegalStateException("unexpected banner");
      }
      return new ServeNode(jvm, host, Integer.parseInt(m.group(1)));
    } catch (Exception | Error e) {
      jvm.close();
      throw e;
    }
  }

  long pid() {
    return jvm.pid();
  }

  /** The member/executor name this node uses in leases: serve-host-pid. */
  String leaseOwnerFragment() {
    return "-" + jvm.pid();
  }

  void kill() throws InterruptedException {
    channel.shutdownNow();
    jvm.kill();
  }

  int terminate(Duration timeout) throws InterruptedException {
    channel.shutdownNow();
    return jvm.terminate(timeout);
  }

  @Override
  public void close() throws InterruptedException {
    channel.shutdownNow();
    jvm.close();
  }
}
