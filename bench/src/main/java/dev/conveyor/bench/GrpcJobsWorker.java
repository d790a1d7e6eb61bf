package dev.conveyor.bench;

import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.ReconcileCompletionStatus;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.supervise.SlotLeases;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * One worker process of the jobs benchmark, speaking the public worker protocol over gRPC as a remote
 * worker does: {@code host:port tokenFile slots} runs {@code slots} slots; free slots lease together
 * ({@link SlotLeases}, one LeaseReconcileJob for all of them), each slot completes its own job with one
 * CompleteLeasedReconcileJob. Prints {@code ready} once connected; each {@code go} line starts a round
 * that ends when a lease finds nothing left (every job was enqueued before the start), printing
 * {@code done <completed> <micros of its last completion> <lease latencies in micros, sorted>}; the
 * first round is the benchmark's warm-up. Ends with its input.
 */
public final class GrpcJobsWorker {
  private GrpcJobsWorker() {}

  public static void main(String[] args) throws Exception {
    String[] hostPort = args[0].split(":");
    String token = LocalToken.read(Path.of(args[1]));
    int slots = Integer.parseInt(args[2]);
    ManagedChannel channel = NettyChannelBuilder.forAddress(hostPort[0], Integer.parseInt(hostPort[1])).usePlaintext()
        .build();
    var stub = ReconcileExecutorControlGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token));
    String executor = "bench-grpc-" + ProcessHandle.current().pid();
    // connect and warm the call path on a kind no job has
    stub.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder().setExecutorId(executor)
        .addJobKinds(JobKind.RJK_PLAN_CONNECTOR).setMaxJobs(1).build());
    System.out.println("ready");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    try {
      for (String line; (line = in.readLine()) != null && line.equals("go"); ) {
        round(stub, executor, slots);
      }
    } catch (Exception | Error e) {
      // a failed call is lost work: end at once (the benchmark fails on the missing figures)
      System.err.println("worker failed: " + e);
      System.exit(1);
    }
    channel.shutdownNow();
  }

  /** One round: leases and completes until a lease finds nothing left; prints its figures. */
  private static void round(ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub stub, String executor,
      int slots) throws Exception {
    SlotLeases<LeasedReconcileJob> leases = new SlotLeases<>(slots, 64, Duration.ofMillis(1));
    AtomicLong completed = new AtomicLong();
    java.util.concurrent.atomic.AtomicBoolean drained = new java.util.concurrent.atomic.AtomicBoolean();
    AtomicLong lastCompletion = new AtomicLong();
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    List<Future<long[]>> work = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      work.add(pool.submit(() -> {
        long[] lat = new long[1024];
        int n = 0;
        while (true) {
          long t0 = System.nanoTime();
          LeasedReconcileJob job = leases.next(want -> {
            List<LeasedReconcileJob> granted = stub.leaseReconcileJob(LeaseReconcileJobRequest.newBuilder()
                .setExecutorId(executor).addJobKinds(JobKind.RJK_BUILD).setMaxJobs(want).build()).getJobsList();
            if (granted.isEmpty()) {
              drained.set(true);
            }
            return granted;
          });
          if (job == null) {
            if (drained.get() && leases.held() == 0) {
              return Arrays.copyOf(lat, n); // a lease found nothing left, and no grant waits for a slot
            }
            continue;
          }
          if (n == lat.length) {
            lat = Arrays.copyOf(lat, n * 2);
          }
          lat[n++] = (System.nanoTime() - t0) / 1000;
          try {
            stub.completeLeasedReconcileJob(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(job.getJobId())
                .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build());
            completed.incrementAndGet();
            lastCompletion.accumulateAndGet(QueuePublisher.nowMicros(), Math::max);
          } finally {
            leases.finished();
          }
        }
      }));
    }
    List<long[]> all = new ArrayList<>();
    try {
      for (Future<long[]> f : work) {
        all.add(f.get());
      }
    } finally {
      pool.shutdownNow();
    }
    long[] sorted = all.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    StringBuilder out = new StringBuilder("done ").append(completed.get()).append(' ').append(lastCompletion.get());
    for (long l : sorted) {
      out.append(' ').append(l);
    }
    System.out.println(out);
    System.out.flush();
  }
}
