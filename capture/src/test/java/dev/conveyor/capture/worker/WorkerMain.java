package dev.conveyor.capture.worker;

import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** Child-process body: a capture worker against a server on loopback, until it is killed. */
public final class WorkerMain {
  private WorkerMain() {}

  public static void main(String[] args) throws Exception {
    var channel = NettyChannelBuilder.forAddress("127.0.0.1", Integer.parseInt(args[0])).usePlaintext().build();
    new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
        CaptureWorker.Options.defaults(args[1]).withParallelism(1).withIdlePoll(Duration.ofMillis(20))
            .withLease(Duration.ofSeconds(Long.parseLong(args[2])))).start();
    System.out.println("STARTED");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
