package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.testing.FlakyProxy;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A remote worker on a network that drops its connection without a word (no reset, no close: a NAT or
 * firewall that forgot the flow): its calls end at their deadlines, keep-alive replaces the connection,
 * and it goes on capturing. Without them it waited forever on a call nobody would answer.
 */
public abstract class WorkerNetworkContract extends CaptureServerBase {
  @TempDir Path tableDir;

  @Override
  protected int filesPerGroup() {
    return 2;
  }

  @Test
  void aWorkerWhoseConnectionTheNetworkSwallowedMakesANewOneAndCaptures() throws Exception {
    try (FlakyProxy proxy = new FlakyProxy("127.0.0.1", server.getPort())) {
      // the shortest keep-alive gRPC allows; production pings after 20 s
      ManagedChannel through = WorkerChannels.keepAlive(NettyChannelBuilder.forAddress("127.0.0.1", proxy.port())
          .usePlaintext(), Duration.ofSeconds(10), Duration.ofSeconds(2)).build();
      try (CaptureWorker w = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(through),
          CaptureWorker.Options.defaults("w").withParallelism(1).withIdlePoll(Duration.ofMillis(20))
              .withLeaseWait(Duration.ofSeconds(1))).start()) {
        await().atMost(Duration.ofSeconds(10)).until(() -> proxy.openConnections() == 1);
        await().atMost(Duration.ofSeconds(10)).until(() -> executorService.waitingCalls() == 1);
        // its lease call is waiting in the server when the network drops the connection without a word
        proxy.blackHoleOpenConnections();
        // that call's wait ends with nothing to grant (a job granted to it now would be lost in the hole and
        // wait for its lease to expire: the reaper's case, not this test's)
        await().atMost(Duration.ofSeconds(10)).until(() -> executorService.waitingCalls() == 0);
        ParquetFileStatsTest.write(tableDir.resolve("a.parquet"), 30, 1);
        String root = planCapture(tableDir);
        await().atMost(Duration.ofSeconds(90)).until(() -> {
          planner.runOnce("planner", 10);
          return ledger.jobs().get(root).state().isTerminal();
        });
        assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
        assertThat(w.groupsDone()).isEqualTo(1);
        assertThat(proxy.openConnections()).as("the swallowed connection and its replacement").isEqualTo(2);
      } finally {
        through.shutdownNow();
      }
    }
  }
}
