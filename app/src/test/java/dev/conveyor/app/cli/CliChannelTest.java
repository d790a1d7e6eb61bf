package dev.conveyor.app.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.StatusRequest;
import io.grpc.StatusRuntimeException;
import java.net.ServerSocket;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** A CLI call's channel leaves no thread behind: the JVM would wait for one still polling in native code. */
class CliChannelTest {
  @Test
  void shuttingTheChannelDownEndsItsEventLoopThread() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0)) {
      closedPort = s.getLocalPort();
    }
    Set<Thread> before = Thread.getAllStackTraces().keySet();
    CliChannel channel = new CliChannel("127.0.0.1", closedPort);
    assertThatThrownBy(() -> GatewayGrpc.newBlockingStub(channel).withDeadlineAfter(5, TimeUnit.SECONDS)
        .status(StatusRequest.newBuilder().setRequestId("r").build()))
        .isInstanceOf(StatusRuntimeException.class); // nobody listens: the call fails, the loop ran

    channel.shutdownNow();

    assertThat(channel.isTerminated()).isTrue();
    // a thread polling in native code shows as RUNNABLE; the ones gRPC parks (its executor) do not delay exit.
    // Netty's process-wide GlobalEventExecutor is not the channel's: any netty user in this test JVM (another
    // test's server shutting down) may start it, it ends itself after a second idle, and CLI calls end with
    // System.exit, which waits for no thread.
    // The loop reports terminated a moment before its thread has returned: on a loaded machine that thread was
    // seen still RUNNABLE right after shutdownNow (CI, 2026-12-03). It must end at once, not at exit's wait.
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(2))
        .untilAsserted(() -> assertThat(running(before)).as("threads the channel started that still run").isEmpty());
  }

  private static Set<String> running(Set<Thread> before) {
    return Thread.getAllStackTraces().keySet().stream()
        .filter(t -> !before.contains(t) && t.isAlive() && t.getState() == Thread.State.RUNNABLE)
        .filter(t -> !t.getName().startsWith("globalEventExecutor") && !t.getName().startsWith("awaitility"))
        .map(Thread::getName).collect(Collectors.toSet());
  }
}
