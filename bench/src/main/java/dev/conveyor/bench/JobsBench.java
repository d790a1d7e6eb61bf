package dev.conveyor.bench;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leased-job throughput: enqueue N no-op jobs, then T worker threads lease (in batches of B)
 * and complete them until none are left. The same workload runs on db-scheduler against the
 * same PostgreSQL, and on the embedded SQLite ledger.
 */
final class JobsBench {
  private JobsBench() {}

  record Result(String name, int jobs, double seconds, double p50Ms, double p99Ms, long peakHeapMb) {
    double perSecond() {
      return jobs / seconds;
    }
  }

  static void run(BenchArgs a) throws Exception {
    System.out.printf("leased-job benchmark: %d jobs, %d worker threads, lease batch %d, %d cores%n",
        a.jobs(), a.threads(), a.batch(), Runtime.getRuntime().availableProcessors());
    String pgUrl = Pg.freshDatabase(a, "jobs");
    Result conveyorPg = conveyor("conveyor / PostgreSQL", pgUrl, a);
    Result dbScheduler = DbSchedulerBench.run(Pg.freshDatabase(a, "dbscheduler"), a);
    Path dir = Files.createTempDirectory("conveyor-bench");
    Result conveyorSqlite = conveyor("conveyor / SQLite", "sqlite:" + dir.resolve("bench.db"), a);

    System.out.println();
    System.out.printf("%-24s %10s %10s %12s %12s %14s%n", "system", "jobs/s", "seconds", "lease p50 ms",
        "lease p99 ms", "peak heap MB");
    for (Result r : List.of(conveyorPg, dbScheduler, conveyorSqlite)) {
      System.out.printf("%-24s %10.0f %10.2f %12s %12s %14d%n", r.name(), r.perSecond(), r.seconds(),
          fmt(r.p50Ms()), fmt(r.p99Ms()), r.peakHeapMb());
    }
    double ratio = conveyorPg.perSecond() / dbScheduler.perSecond();
    System.out.printf("%nconveyor/PostgreSQL vs db-scheduler: %.2fx (target >= 2x: %s)%n", ratio,
        ratio >= 2.0 ? "met" : "NOT met");
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format("%.2f", v);
  }

  private static Result conveyor(String name, String url, BenchArgs a) throws Exception {
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(url).withPoolSize(a.threads() + 2))) {
      List<JobSpec> batch = new ArrayList<>();
      for (int i = 0; i < a.jobs(); i++) {
        batch.add(JobSpec.builder(JobKind.BUILD).build());
        if (batch.size() == 1000) {
          ledger.jobs().enqueueAll(batch);
          batch.clear();
        }
      }
      if (!batch.isEmpty()) {
        ledger.jobs().enqueueAll(batch);
      }
      HeapPeak.reset();
      AtomicLong done = new AtomicLong();
      List<long[]> latencies = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(a.threads());
      long start = System.nanoTime();
      List<Future<long[]>> workers = new ArrayList<>();
      for (int t = 0; t < a.threads(); t++) {
        String executor = "bench-" + t;
        workers.add(pool.submit(() -> work(ledger, executor, a.batch(), done)));
      }
      for (Future<long[]> w : workers) {
        latencies.add(w.get());
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      pool.shutdown();
      long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
      if (done.get() != a.jobs()) {
        throw new IllegalStateException(name + ": completed " + done.get() + " of " + a.jobs());
      }
      return new Result(name, a.jobs(), seconds, percentile(all, 0.50), percentile(all, 0.99), HeapPeak.peakMb());
    }
  }

  private static long[] work(Ledger ledger, String executor, int batch, AtomicLong done) {
    LeaseRequest req = LeaseRequest.of(executor, Set.of(JobKind.BUILD), Duration.ofMinutes(5)).withMaxJobs(batch);
    long[] lat = new long[1024];
    int n = 0;
    Completion ok = new Completion.Succeeded(null);
    while (true) {
      long t0 = System.nanoTime();
      List<LeaseGrant> grants = ledger.jobs().lease(req);
      long dt = System.nanoTime() - t0;
      if (grants.isEmpty()) {
        return Arrays.copyOf(lat, n);
      }
      if (n == lat.length) {
        lat = Arrays.copyOf(lat, n * 2);
      }
      lat[n++] = dt;
      ledger.jobs().completeAll(grants, ok);
      done.addAndGet(grants.size());
    }
  }

  static double percentile(long[] sortedNanos, double q) {
    if (sortedNanos.length == 0) {
      return Double.NaN;
    }
    int idx = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
    return sortedNanos[Math.max(0, idx)] / 1e6;
  }
}
