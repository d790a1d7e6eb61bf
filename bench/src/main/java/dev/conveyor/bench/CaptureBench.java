package dev.conveyor.bench;

import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.capture.worker.CaptureWorker;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CaptureTables;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ForwardingClientCall;
import io.grpc.ForwardingClientCallListener;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;

/**
 * One capture worker on a generated table of ~N MB (8 MB files, groups of 16): files/s and MB/s,
 * and the share of each group's time the work spends waiting on protocol calls (heartbeats, which
 * carry progress on their own thread, excluded) versus reading and decoding Parquet.
 */
final class CaptureBench {
  private CaptureBench() {}

  static void run(BenchArgs a) throws Exception {
    Path dir = Files.createTempDirectory("conveyor-capture-bench");
    Path probeDir = Files.createDirectories(dir.resolve("probe"));
    SampleTable.write(probeDir, 1, 100_000);
    long bytesPerRow = Math.max(1, Files.size(probeDir.resolve("orders-000.parquet")) / 100_000);
    int rowsPerFile = (int) (8L * 1024 * 1024 / bytesPerRow);
    int files = Math.max(16, a.mb() / 8);
    Path table = dir.resolve("table");
    long t0 = System.nanoTime();
    SampleTable.write(table, files, rowsPerFile);
    long totalBytes;
    try (Stream<Path> s = Files.list(table)) {
      totalBytes = s.mapToLong(p -> p.toFile().length()).sum();
    }
    System.out.printf("capture benchmark: %d files, %.0f MB, %d rows each (generated in %.1f s)%n", files,
        totalBytes / 1e6, rowsPerFile, (System.nanoTime() - t0) / 1e9);

    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("ledger.db"))) {
      CaptureTables tables = new CaptureTables(ledger);
      CapturePlanner planner = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(16, Long.MAX_VALUE / 4));
      var server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
          .addService(new ReconcileExecutorService(ledger, 64)).build().start();
      AtomicLong rpcNanos = new AtomicLong();
      AtomicLong rpcCalls = new AtomicLong();
      java.util.Map<String, AtomicLong> byMethod = new java.util.concurrent.ConcurrentSkipListMap<>();
      var channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext()
          .intercept(timing(rpcNanos, rpcCalls, byMethod)).build();
      tables.register("bench", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
          .setLocation(table.toString()).build());
      String root = planner.startCapture("bench", "", CapturePolicy.newBuilder().setFileStats(true)
          .setColumnStats(true).setTableStats(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build());
      planner.runOnce("planner", 10);
      planner.runOnce("planner", 10);
      int groups = (files + 15) / 16;
      // a worker's steady state is measured: connection set-up and warm-up happen before the clock starts
      for (int i = 0; i < 20; i++) {
        ReconcileExecutorControlGrpc.newBlockingStub(channel).leaseReconcileJob(
            dev.conveyor.api.reconcile.LeaseReconcileJobRequest.newBuilder().setExecutorId("warm-up")
                .addJobKinds(dev.conveyor.api.reconcile.JobKind.RJK_BUILD).build());
      }
      rpcNanos.set(0);
      rpcCalls.set(0);
      byMethod.clear();
      long start = System.nanoTime();
      try (CaptureWorker worker = new CaptureWorker(ReconcileExecutorControlGrpc.newBlockingStub(channel),
          CaptureWorker.Options.defaults("bench-worker").withParallelism(1).withIdlePoll(Duration.ofMillis(5)))
          .start()) {
        while (worker.groupsDone() < groups) {
          Thread.sleep(2);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      planner.runOnce("planner", 10);
      long failed = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = ? AND state <> 'SUCCEEDED'",
          JobKind.EXEC_FILE_GROUP));
      double rpcSeconds = rpcNanos.get() / 1e9;
      System.out.printf("%n%-34s %12d%n", "file groups (16 files each)", groups);
      System.out.printf("%-34s %12.2f%n", "wall seconds", seconds);
      System.out.printf("%-34s %12.1f%n", "files/s", files / seconds);
      System.out.printf("%-34s %12.1f%n", "MB/s", totalBytes / 1e6 / seconds);
      System.out.printf("%-34s %12d%n", "protocol calls the work waits on", rpcCalls.get());
      System.out.printf("%-34s %12.3f%n", "protocol seconds", rpcSeconds);
      byMethod.forEach((m, n) -> System.out.printf("    %-30s %12.3f%n", m, n.get() / 1e9));
      System.out.printf("%-34s %12.3f%n", "Parquet and other work seconds", seconds - rpcSeconds);
      System.out.printf("%-34s %11.1f%%  (target < 5%%)%n", "protocol share of group time", 100 * rpcSeconds / seconds);
      System.out.printf("%-34s %12d%n", "groups not SUCCEEDED", failed);

      channel.shutdownNow();
      server.shutdownNow();
    }
  }

  /** Sums the wall time of the calls the work waits for (not the heartbeats, which run on their own thread). */
  private static ClientInterceptor timing(AtomicLong nanos, AtomicLong calls,
      java.util.Map<String, AtomicLong> byMethod) {
    return new ClientInterceptor() {
      @Override
      public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
        // heartbeats (renew, or progress, which also renews) run on their own thread beside the work
        boolean counted = !method.getBareMethodName().equals("RenewReconcileLease")
            && !method.getBareMethodName().equals("ReportReconcileProgress");
        long started = System.nanoTime();
        return new ForwardingClientCall.SimpleForwardingClientCall<>(next.newCall(method, options)) {
          @Override
          public void start(Listener<R> listener, Metadata headers) {
            super.start(new ForwardingClientCallListener.SimpleForwardingClientCallListener<>(listener) {
              @Override
              public void onClose(Status status, Metadata trailers) {
                if (counted) {
                  long took = System.nanoTime() - started;
                  byMethod.computeIfAbsent(method.getBareMethodName(), k -> new AtomicLong()).addAndGet(took);
                  nanos.addAndGet(took);
                  calls.incrementAndGet();
                }
                super.onClose(status, trailers);
              }
            }, headers);
          }
        };
      }
    };
  }
}
