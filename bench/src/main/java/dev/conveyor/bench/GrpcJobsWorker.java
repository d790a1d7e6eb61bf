package dev.conveyor.bench;

import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeasedReconcileJob;
import dev.conveyor.api.reconcile.ReconcileCompletionStatus;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.reconcile.client.WorkerSessionClient;
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
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One worker process of the jobs benchmark, speaking the public worker protocol over gRPC as a remote
 * worker does: {@code host:port tokenFile slots} runs {@code slots} slots over one WorkerSession
 * stream ({@link WorkerSessionClient}). Free slots lease together ({@link SlotLeases}, one lease call for
 * all of them); each slot sends its own job's completion and, as River's async completer does, takes
 * its next job without waiting for the answer (at most {@code slots} completions unanswered). Every
 * completion is still answered on its own; an error answer fails the process. Prints {@code ready} once
 * connected; each {@code go} line starts a round that ends when a lease finds nothing left (every job
 * was enqueued before the start) and every completion has been answered, printing {@code done
 * <completed> <micros of its last completion answer> <lease latencies in micros, sorted>}; the first
 * rounds are the benchmark's warm-up. Ends with its input.
 */
public final class GrpcJobsWorker {
  private GrpcJobsWorker() {}

  /** Completions a process may have sent and not yet seen answered (River's completer backlog, in small). */
  static final int LEASE_AHEAD = Integer.getInteger("conveyor.bench.leaseAhead", 4);
  static final int UNANSWERED = Integer.getInteger("conveyor.bench.unanswered", 128);

  public static void main(String[] args) throws Exception {
    String[] hostPort = args[0].split(":");
    String token = LocalToken.read(Path.of(args[1]));
    int slots = Integer.parseInt(args[2]);
    ManagedChannel channel = NettyChannelBuilder.forAddress(hostPort[0], Integer.parseInt(hostPort[1])).usePlaintext()
        .build();
    var stub = ReconcileExecutorControlGrpc.newStub(channel).withCallCredentials(new BearerCredentials(() -> token));
    String executor = "bench-grpc-" + ProcessHandle.current().pid();
    WorkerSessionClient session = new WorkerSessionClient(stub);
    // connect and warm the call path on a kind no job has
    session.lease(LeaseReconcileJobRequest.newBuilder().setExecutorId(executor)
        .addJobKinds(JobKind.RJK_PLAN_CONNECTOR).setMaxJobs(1).build()).get();
    System.out.println("ready");
    System.out.flush();
    BufferedReader in = new BufferedReader(new InputStreamReader(System.in));
    try {
      for (String line; (line = in.readLine()) != null && line.equals("go"); ) {
        round(session, executor, slots);
      }
      session.close();
    } catch (Exception | Error e) {
      // a failed call is lost work: end at once (the benchmark fails on the missing figures)
      System.err.println("worker failed: " + e);
      System.exit(1);
    }
    channel.shutdownNow();
  }

  /** One round: leases and completes until a lease finds nothing left; prints its figures. */
  private static void round(WorkerSessionClient session, String executor, int slots) throws Exception {
    SlotLeases<LeasedReconcileJob> leases = new SlotLeases<>(slots, LEASE_AHEAD, 100, Duration.ofMillis(1));
    AtomicLong completed = new AtomicLong();
    AtomicBoolean drained = new AtomicBoolean();
    AtomicLong lastCompletion = new AtomicLong();
    AtomicReference<Throwable> failed = new AtomicReference<>();
    Semaphore unanswered = new Semaphore(UNANSWERED);
    ExecutorService pool = Executors.newFixedThreadPool(slots);
    List<Future<long[]>> work = new ArrayList<>();
    for (int s = 0; s < slots; s++) {
      work.add(pool.submit(() -> {
        long[] lat = new long[1024];
        int n = 0;
        while (failed.get() == null) {
          long t0 = System.nanoTime();
          LeasedReconcileJob job = leases.next(want -> {
            List<LeasedReconcileJob> granted = session.lease(LeaseReconcileJobRequest.newBuilder()
                .setExecutorId(executor).addJobKinds(JobKind.RJK_BUILD).setMaxJobs(want).build()).get().getJobsList();
            if (granted.isEmpty()) {
              drained.set(true);
            }
            return granted;
          });
          if (job == null) {
            if (drained.get() && leases.held() == 0) {
              break; // a lease found nothing left, and no grant waits for a slot
            }
            continue;
          }
          if (n == lat.length) {
            lat = Arrays.copyOf(lat, n * 2);
          }
          lat[n++] = (System.nanoTime() - t0) / 1000;
          unanswered.acquire();
          session.complete(CompleteLeasedReconcileJobRequest.newBuilder().setJobId(job.getJobId())
              .setLeaseEpoch(job.getLeaseEpoch()).setStatus(ReconcileCompletionStatus.RCS_SUCCEEDED).build())
              .whenComplete((answer, failure) -> {
                if (failure == null) {
                  completed.incrementAndGet();
                  lastCompletion.accumulateAndGet(QueuePublisher.nowMicros(), Math::max);
                } else {
                  failed.compareAndSet(null, failure);
                }
                unanswered.release();
              });
          leases.finished();
        }
        return Arrays.copyOf(lat, n);
      }));
    }
    List<long[]> all = new ArrayList<>();
    try {
      for (Future<long[]> f : work) {
        all.add(f.get());
      }
      unanswered.acquire(UNANSWERED); // every completion answered
      unanswered.release(UNANSWERED);
    } finally {
      pool.shutdownNow();
    }
    if (failed.get() != null) {
      throw new IllegalStateException("a completion failed: " + failed.get(), failed.get());
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
