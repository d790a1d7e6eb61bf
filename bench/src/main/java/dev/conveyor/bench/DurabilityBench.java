package dev.conveyor.bench;

import com.google.protobuf.ByteString;
import dev.conveyor.api.durability.ClaimEffectRequest;
import dev.conveyor.api.durability.CompleteEffectRequest;
import dev.conveyor.api.durability.DurabilityGrpc;
import dev.conveyor.api.durability.EmitSignalRequest;
import dev.conveyor.api.durability.FollowSignalsRequest;
import dev.conveyor.api.durability.ReadSignalsRequest;
import dev.conveyor.api.durability.ReadSignalsResponse;
import dev.conveyor.api.durability.SignalEvent;
import dev.conveyor.durability.service.DurabilityRuntime;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.supervise.Supervisor;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * The Durability service as a client sees it: a node's service behind serve's bearer auth on loopback gRPC,
 * the client in this process. Signals emitted per second by one and by eight emitters (on one partition, and
 * on eight), replayed per second through ReadSignals pages, claim+complete cycles per second, and the time
 * from an EmitSignal call to its arrival at a FollowSignals reader. Every emitted signal must be replayed and
 * followed, and every cycle's claim completed, or the run fails.
 */
final class DurabilityBench {
  private DurabilityBench() {}

  record Result(String ledger, double oneEmitter, double eightOnePartition, double eightPartitions,
      double replay, double cyclesOne, double cyclesEight, double followP50, double followP99) {}

  static boolean run(BenchArgs a) throws Exception {
    int n = a.jobs() == 20_000 ? 4_000 : a.jobs(); // signals per phase
    System.out.printf("durability benchmark: %d signals per phase, %d claim+complete cycles, 1,000 followed signals"
        + " at ~200/s; gRPC on loopback with serve's bearer auth%n", n, n);
    List<Result> results = new ArrayList<>();
    if (a.runs("postgres")) {
      results.add(measure("PostgreSQL", Pg.ledgerUrl(Pg.freshDatabase(a, "durability")), n));
    }
    if (a.runs("sqlite")) {
      results.add(measure("SQLite", "sqlite:" + Files.createTempDirectory("conveyor-dbench").resolve("d.db"), n));
    }
    System.out.println();
    System.out.printf("%-11s %12s %12s %12s %12s %12s %12s %10s %10s%n", "ledger", "emit 1/s", "emit 8x1p/s",
        "emit 8x8p/s", "replay/s", "claim 1/s", "claim 8/s", "follow p50", "follow p99");
    for (Result r : results) {
      System.out.printf("%-11s %12.0f %12.0f %12.0f %12.0f %12.0f %12.0f %8.2fms %8.2fms%n", r.ledger(),
          r.oneEmitter(), r.eightOnePartition(), r.eightPartitions(), r.replay(), r.cyclesOne(), r.cyclesEight(),
          r.followP50(), r.followP99());
    }
    System.out.println("emit 8x1p: eight emitters on one partition (they serialise on its sequence); 8x8p: each on"
        + " its own. claim: ClaimEffect then CompleteEffect per key. follow: EmitSignal call to FollowSignals"
        + " arrival, reader and writer on one node.");
    return true;
  }

  private static Result measure(String name, String url, int n) throws Exception {
    Path data = Files.createTempDirectory("conveyor-dbench-data");
    LocalToken token = LocalToken.inDataDirectory(data);
    try (Ledger ledger = Ledger.open(url);
        DurabilityRuntime runtime = DurabilityRuntime.start(ledger, 16)) {
      BearerAuthInterceptor auth = new BearerAuthInterceptor(token, BearerAuthInterceptor.SERVICE_ROLES);
      Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(ServerInterceptors.intercept(runtime.service(), auth)).build().start();
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
      try {
        var stub = DurabilityGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(token::value));
        var async = DurabilityGrpc.newStub(channel).withCallCredentials(new BearerCredentials(token::value));
        emit(stub, "warm", 1, 200, false); // JIT and pools
        double one = emit(stub, "one", 1, n, false);
        double eightOne = emit(stub, "eight-one", 8, n, false);
        double eightEight = emit(stub, "eight-eight", 8, n, true);
        double replay = replay(stub, "eight-one", n);
        double cyclesOne = cycles(stub, "c1", 1, n / 2);
        double cyclesEight = cycles(stub, "c8", 8, n);
        double[] follow = follow(stub, async, 1_000);
        System.out.printf("%s: emit %.0f/s (1), %.0f/s (8 on 1 partition), %.0f/s (8 on 8); replay %.0f/s;"
            + " claim+complete %.0f/s (1), %.0f/s (8); follow p50 %.2f ms p99 %.2f ms%n", name, one, eightOne,
            eightEight, replay, cyclesOne, cyclesEight, follow[0], follow[1]);
        return new Result(name, one, eightOne, eightEight, replay, cyclesOne, cyclesEight, follow[0], follow[1]);
      } finally {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }

  /** {@code n} signals by {@code emitters} threads; answers signals per second, checking each got a sequence. */
  private static double emit(DurabilityGrpc.DurabilityBlockingStub stub, String stream, int emitters, int n,
      boolean ownPartitions) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(emitters);
    AtomicInteger next = new AtomicInteger();
    long start = System.nanoTime();
    List<Future<Integer>> done = new ArrayList<>();
    for (int e = 0; e < emitters; e++) {
      String partition = ownPartitions ? "p" + e : "p";
      done.add(pool.submit(() -> {
        int mine = 0;
        for (int i; (i = next.getAndIncrement()) < n; ) {
          var r = stub.emitSignal(EmitSignalRequest.newBuilder().setStream(stream).setPartitionKey(partition)
              .setIntentId("i" + i).setPayload(ByteString.copyFromUtf8("signal " + i)).build());
          if (r.getDuplicate() || r.getSequence() < 1) {
            throw new IllegalStateException("signal " + i + " was not stored: " + r);
          }
          mine++;
        }
        return mine;
      }));
    }
    int total = 0;
    for (Future<Integer> f : done) {
      total += f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    if (total != n) {
      throw new IllegalStateException("emitted " + total + " of " + n);
    }
    return n / seconds;
  }

  private static double replay(DurabilityGrpc.DurabilityBlockingStub stub, String stream, int n) {
    long start = System.nanoTime();
    long after = 0;
    int read = 0;
    while (true) {
      ReadSignalsResponse page = stub.readSignals(ReadSignalsRequest.newBuilder().setStream(stream).setPartition("p")
          .setAfterSequence(after).setLimit(1000).build());
      if (page.getSignalsCount() == 0) {
        break;
      }
      for (var s : page.getSignalsList()) {
        if (s.getSequence() != after + 1) {
          throw new IllegalStateException("replay jumped from " + after + " to " + s.getSequence());
        }
        after = s.getSequence();
        read++;
      }
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    if (read != n) {
      throw new IllegalStateException("replayed " + read + " of " + n + " signals");
    }
    return read / seconds;
  }

  private static double cycles(DurabilityGrpc.DurabilityBlockingStub stub, String subject, int threads, int n)
      throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(threads);
    AtomicInteger next = new AtomicInteger();
    long start = System.nanoTime();
    List<Future<Integer>> done = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      done.add(pool.submit(() -> {
        int mine = 0;
        for (int i; (i = next.getAndIncrement()) < n; ) {
          var claim = stub.claimEffect(ClaimEffectRequest.newBuilder().setSubject(subject).setKey("k" + i)
              .setHolder("bench").setTtlMs(60_000).build());
          if (!claim.hasAcquired()) {
            throw new IllegalStateException("effect k" + i + " was not acquired: " + claim);
          }
          stub.completeEffect(CompleteEffectRequest.newBuilder().setSubject(subject).setKey("k" + i)
              .setToken(claim.getAcquired().getToken()).setResult(ByteString.copyFromUtf8("done")).build());
          mine++;
        }
        return mine;
      }));
    }
    int total = 0;
    for (Future<Integer> f : done) {
      total += f.get();
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    pool.shutdown();
    if (total != n) {
      throw new IllegalStateException("completed " + total + " of " + n + " effects");
    }
    return n / seconds;
  }

  /** p50 and p99 milliseconds from an EmitSignal call to the follower's receipt, at ~200 signals a second. */
  private static double[] follow(DurabilityGrpc.DurabilityBlockingStub stub, DurabilityGrpc.DurabilityStub async,
      int n) throws Exception {
    long[] sentAt = new long[n + 1];
    long[] latencies = new long[n];
    AtomicInteger received = new AtomicInteger();
    CountDownLatch all = new CountDownLatch(n);
    CountDownLatch subscribed = new CountDownLatch(1);
    async.followSignals(FollowSignalsRequest.newBuilder().setStream("followed").setPartition("p").build(),
        new StreamObserver<>() {
          @Override
          public void onNext(SignalEvent e) {
            if (e.hasSignal()) {
              int i = ByteBuffer.wrap(e.getSignal().getPayload().toByteArray()).getInt();
              if (i == 0) {
                subscribed.countDown();
                return;
              }
              latencies[received.getAndIncrement()] = System.nanoTime() - sentAt[i];
              all.countDown();
            }
          }

          @Override
          public void onError(Throwable t) {
            if (all.getCount() > 0) { // the bench's own shutdown ends the follow once everything arrived
              System.err.println("follow failed: " + t);
            }
          }

          @Override
          public void onCompleted() {}
        });
    stub.emitSignal(EmitSignalRequest.newBuilder().setStream("followed").setPartitionKey("p").setIntentId("f0")
        .setPayload(ByteString.copyFrom(ByteBuffer.allocate(4).putInt(0).array())).build());
    if (!subscribed.await(30, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the follower never started");
    }
    for (int i = 1; i <= n; i++) {
      sentAt[i] = System.nanoTime();
      stub.emitSignal(EmitSignalRequest.newBuilder().setStream("followed").setPartitionKey("p").setIntentId("f" + i)
          .setPayload(ByteString.copyFrom(ByteBuffer.allocate(4).putInt(i).array())).build());
      LockSupport.parkNanos(5_000_000);
    }
    if (!all.await(60, TimeUnit.SECONDS)) {
      throw new IllegalStateException("the follower received " + received.get() + " of " + n + " signals");
    }
    long[] sorted = Arrays.copyOf(latencies, n);
    Arrays.sort(sorted);
    return new double[] {sorted[n / 2] / 1e6, sorted[(int) (n * 0.99)] / 1e6};
  }
}
