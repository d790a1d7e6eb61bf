package dev.conveyor.bench;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.supervise.SlotLeases;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Leased-job throughput. The headline is the path remote workers take: {@link #WORKER_PROCESSES} worker
 * processes over gRPC, T slots in all (free slots lease together in one call; each slot completes its own
 * job with one call; the server's group commit shares transactions among concurrent calls); then serve's
 * own build worker loop. Next to them, db-scheduler at its documented high-throughput setting
 * ({@code lockAndFetch(1.0, 4.0)}) on the same PostgreSQL, same threads, one completion per execution;
 * both clocks stop when the last completion has committed. Also printed: ledger transactions per
 * completed job (from {@code pg_stat_database}), and, as labelled second lines, the library in-process
 * (one worker of T slots, no gRPC) and the batched library path (lease B, complete all B in one call) that
 * no worker uses.
 */
final class JobsBench {
  private JobsBench() {}

  record Result(String name, int jobs, double seconds, double p50Ms, double p99Ms, long peakHeapMb,
      double txPerJob, CpuMeter.Share cpu) {
    Result(String name, int jobs, double seconds, double p50Ms, double p99Ms, long peakHeapMb, double txPerJob) {
      this(name, jobs, seconds, p50Ms, p99Ms, peakHeapMb, txPerJob, null);
    }

    double perSecond() {
      return jobs / seconds;
    }
  }

  static void run(BenchArgs a) throws Exception {
    System.out.printf("leased-job benchmark: %d jobs, %d worker threads, %d cores%n", a.jobs(), a.threads(),
        Runtime.getRuntime().availableProcessors());
    boolean pg = a.runs("postgres");
    boolean sqlite = a.runs("sqlite");
    Path dir = Files.createTempDirectory("conveyor-bench");
    Result conveyorPg = pg && a.jobsLine("grpc") ? grpc("conveyor / PostgreSQL", Pg.freshDatabase(a, "jobs_grpc"), a) : null;
    Result dbScheduler = pg && a.jobsLine("db-scheduler") ? DbSchedulerBench.run(Pg.freshDatabase(a, "dbscheduler"), a) : null;
    Result conveyorSqlite = sqlite && a.jobsLine("grpc") ? grpc("conveyor / SQLite", "sqlite:" + dir.resolve("grpc.db"), a) : null;
    Result libraryPg = pg && a.jobsLine("library") ? conveyor("library / PostgreSQL", Pg.freshDatabase(a, "jobs"), a, 1) : null;
    Result librarySqlite = sqlite && a.jobsLine("library") ? conveyor("library / SQLite", "sqlite:" + dir.resolve("bench.db"), a, 1) : null;
    Result loopPg = pg && a.jobsLine("loop") ? BuildLoopBench.run("build worker loop / PostgreSQL", Pg.freshDatabase(a, "build_loop"), a)
        : null;
    Result loopSqlite = sqlite && a.jobsLine("loop") ? BuildLoopBench.run("build worker loop / SQLite", "sqlite:" + dir.resolve("loop.db"), a)
        : null;
    Result batchedPg = pg && a.jobsLine("batched") ? conveyor("conveyor / PostgreSQL", Pg.freshDatabase(a, "jobs_batched"), a, a.batch()) : null;
    Result batchedSqlite = sqlite && a.jobsLine("batched")
        ? conveyor("conveyor / SQLite", "sqlite:" + dir.resolve("batched.db"), a, a.batch()) : null;

    System.out.println();
    System.out.printf("%-46s %10s %10s %12s %12s %10s %14s%n", "system (T slots in all; each completes its own)",
        "jobs/s", "seconds", "lease p50 ms", "lease p99 ms", "tx/job", "peak heap MB");
    for (Result r : java.util.Arrays.asList(conveyorPg, dbScheduler, conveyorSqlite, loopPg, loopSqlite)) {
      if (r != null) {
        print(r);
      }
    }
    System.out.println();
    if (conveyorPg != null && dbScheduler != null) {
      double ratio = conveyorPg.perSecond() / dbScheduler.perSecond();
      System.out.printf("conveyor/PostgreSQL vs db-scheduler: %.2fx (target >= 2x: %s)%n", ratio,
          ratio >= 2.0 ? "met" : "NOT met");
    }
    printCpu(conveyorPg, dbScheduler);
    if (conveyorSqlite != null) {
      System.out.printf("conveyor/SQLite: %.0f jobs/s (target >= 5,000: %s)%n", conveyorSqlite.perSecond(),
          conveyorSqlite.perSecond() >= 5000 ? "met" : "NOT met");
    }
    System.out.printf("conveyor: %d worker processes, %d slots in all, each on one WorkerSession stream (the public"
        + " worker protocol) to a control plane on the ledger, with serve's auth; lease-ahead %d x slots, as"
        + " db-scheduler's lockAndFetch upper limit; a slot sends its job's completion and takes the next job"
        + " without waiting for the answer (at most %d unanswered per process); every completion is answered on its"
        + " own and an error answer fails the run; its peak heap is the control plane's.%n", WORKER_PROCESSES,
        slotsOf(a, 0) + slotsOf(a, 1), GrpcJobsWorker.LEASE_AHEAD, GrpcJobsWorker.UNANSWERED);
    System.out.println("warm-up: the gRPC workers and db-scheduler each run rounds of " + WARM_UP_ROUND
        + " jobs for " + WARM_UP.toSeconds() + " s first; the build worker loop and the library lines do not.");
    System.out.println("build worker loop: serve's BuildWorker with T slots; per job lease (shared), start, and"
        + " completion with its BuildSignal published; no git export, no build command.");
    System.out.println();
    System.out.println("second line, the library in-process (one worker of T slots, SlotLeases, no gRPC):");
    for (Result r : java.util.Arrays.asList(libraryPg, librarySqlite)) {
      if (r != null) {
        print(r);
      }
    }
    System.out.printf("%nsecond line, the batched library path (lease %d, complete %d in one call; no worker runs it):%n",
        a.batch(), a.batch());
    for (Result r : java.util.Arrays.asList(batchedPg, batchedSqlite)) {
      if (r != null) {
        print(r);
      }
    }
  }

  /**
   * Where each side's CPU went, per completed job (both measured over their timed run only, from {@code /proc}).
   * On a machine whose cores are all busy, jobs/s is cores divided by this total, so it says what a ratio
   * could be: twice db-scheduler's rate needs at most half its CPU per job, whatever the split.
   */
  private static void printCpu(Result conveyor, Result dbScheduler) {
    if (conveyor != null && conveyor.cpu() != null) {
      CpuMeter.Share c = conveyor.cpu();
      System.out.printf("CPU per job, conveyor / PostgreSQL over gRPC: %.0f us (control plane %.0f, worker processes %.0f,"
          + " PostgreSQL %.0f)%n", c.total(), c.self(), c.workers(), c.postgres());
    }
    if (dbScheduler != null && dbScheduler.cpu() != null) {
      CpuMeter.Share d = dbScheduler.cpu();
      System.out.printf("CPU per job, db-scheduler: %.0f us (its JVM %.0f, PostgreSQL %.0f); 2x its rate on these"
          + " cores allows at most %.0f us a job%n", d.total(), d.self(), d.postgres(), d.total() / 2);
    }
  }

  private static void print(Result r) {
    System.out.printf("%-46s %10.0f %10.2f %12s %12s %10s %14d%n", r.name(), r.perSecond(), r.seconds(),
        fmt(r.p50Ms()), fmt(r.p99Ms()), Double.isNaN(r.txPerJob()) ? "n/a" : String.format("%.2f", r.txPerJob()),
        r.peakHeapMb());
  }

  private static String fmt(double v) {
    return Double.isNaN(v) ? "n/a" : String.format("%.2f", v);
  }

  private static Result conveyor(String name, String url, BenchArgs a, int batch) throws Exception {
    String label = batch == 1 ? name : name + ", batch " + batch;
    Optional<Long> commitsBefore;
    Result result;
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(url).withPoolSize(a.threads() + 2))) {
      enqueue(ledger, a.jobs());
      commitsBefore = commits(url);
      HeapPeak.reset();
      AtomicLong done = new AtomicLong();
      List<long[]> latencies = new ArrayList<>();
      ExecutorService pool = Executors.newFixedThreadPool(a.threads());
      SlotLeases<LeaseGrant> slots = new SlotLeases<>(a.threads(), LeaseRequest.MAX_BATCH, Duration.ofMillis(1));
      long start = System.nanoTime();
      List<Future<long[]>> workers = new ArrayList<>();
      for (int t = 0; t < a.threads(); t++) {
        String executor = "bench-" + t;
        workers.add(pool.submit(() -> batch == 1 ? work(ledger, "bench-worker", slots, done, a.jobs())
            : workBatched(ledger, executor, batch, done)));
      }
      for (Future<long[]> w : workers) {
        latencies.add(w.get());
      }
      double seconds = (System.nanoTime() - start) / 1e9; // every complete() has returned: committed
      pool.shutdown();
      long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
      if (done.get() != a.jobs()) {
        throw new IllegalStateException(label + ": completed " + done.get() + " of " + a.jobs());
      }
      long open = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state <> 'SUCCEEDED'"));
      if (open != 0) {
        throw new IllegalStateException(label + ": " + open + " jobs did not end SUCCEEDED");
      }
      long[] group = ledger.groupCommitCounts();
      System.out.printf("%s: group commit carried %,d units in %,d transactions%n", label, group[1], group[0]);
      result = new Result(label, a.jobs(), seconds, percentile(all, 0.50), percentile(all, 0.99), HeapPeak.peakMb(),
          Double.NaN);
    }
    // the pool is closed: its sessions have flushed their statistics
    Optional<Long> commitsAfter = commitsBefore.isPresent() ? settledCommits(url) : Optional.empty();
    double txPerJob = commitsAfter.isPresent() ? (commitsAfter.get() - commitsBefore.get()) / (double) a.jobs()
        : Double.NaN;
    return new Result(result.name(), result.jobs(), result.seconds(), result.p50Ms(), result.p99Ms(),
        result.peakHeapMb(), txPerJob);
  }

  static final int WORKER_PROCESSES = 2;

  /** Worker {@code i}'s share of the T slots (at least one each). */
  static int slotsOf(BenchArgs a, int i) {
    return Math.max(1, a.threads() / WORKER_PROCESSES + (i < a.threads() % WORKER_PROCESSES ? 1 : 0));
  }

  /**
   * The headline: {@link #WORKER_PROCESSES} worker JVMs ({@link GrpcJobsWorker}) lease and complete N
   * no-op jobs over gRPC from the worker protocol's service on the ledger, behind serve's bearer-token
   * check. The clock starts when every worker is connected and told to go, and stops at the last
   * completion any worker saw answered (answered means committed).
   */
  private static Result grpc(String name, String url, BenchArgs a) throws Exception {
    String label = name + ", " + WORKER_PROCESSES + " gRPC worker processes";
    Path tokenDir = Files.createTempDirectory("conveyor-bench-token");
    Optional<Long> commitsBefore;
    Result result;
    CpuMeter.Share cpu;
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(url).withPoolSize(a.threads() + 2))) {
      var token = dev.conveyor.reconcile.auth.LocalToken.inDataDirectory(tokenDir);
      var auth = new dev.conveyor.reconcile.auth.BearerAuthInterceptor(token,
          dev.conveyor.reconcile.auth.BearerAuthInterceptor.SERVICE_ROLES);
      io.grpc.Server server = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
          .forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
          .addService(io.grpc.ServerInterceptors.intercept(
              new dev.conveyor.reconcile.executor.ReconcileExecutorService(ledger, 256), auth))
          .build().start();
      List<Process> workers = new ArrayList<>();
      try {
        for (int i = 0; i < WORKER_PROCESSES; i++) {
          List<String> command = new ArrayList<>(List.of("java", "-Xmx256m"));
          String opts = System.getenv("CONVEYOR_BENCH_WORKER_OPTS"); // e.g. a flight recording of each worker
          if (opts != null && !opts.isBlank()) {
            command.addAll(List.of(opts.replace("{i}", String.valueOf(i)).trim().split(" +")));
          }
          command.addAll(List.of("-cp", System.getProperty("java.class.path"), GrpcJobsWorker.class.getName(),
              "127.0.0.1:" + server.getPort(), tokenDir.resolve("local-token").toString(),
              String.valueOf(slotsOf(a, i))));
          workers.add(new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT).start());
        }
        List<java.io.BufferedReader> outs = new ArrayList<>();
        for (Process w : workers) {
          var out = new java.io.BufferedReader(new java.io.InputStreamReader(w.getInputStream()));
          String line;
          while ((line = out.readLine()) != null && !line.equals("ready")) {
            System.out.println("worker: " + line); // the JVM's own notices, a flight recording's for one
          }
          if (line == null) {
            throw new IllegalStateException(label + ": a worker process did not start");
          }
          outs.add(out);
        }
        long warmUpStart = System.nanoTime();
        int warmUpRounds = 0;
        while (System.nanoTime() - warmUpStart < WARM_UP.toNanos()) {
          Round warmUp = round(ledger, workers, outs, WARM_UP_ROUND, label + " (warm-up)");
          warmUpRounds++;
          if (warmUp.completed != WARM_UP_ROUND) {
            throw new IllegalStateException(label + ": a warm-up round completed " + warmUp.completed + " of "
                + WARM_UP_ROUND);
          }
        }
        System.out.printf("%s: warmed up with %d rounds of %d jobs%n", label, warmUpRounds, WARM_UP_ROUND);
        long[] groupBefore = ledger.groupCommitCounts();
        commitsBefore = commits(url);
        HeapPeak.reset();
        Round measured = round(ledger, workers, outs, a.jobs(), label);
        cpu = measured.cpu();
        for (Process w : workers) {
          w.getOutputStream().close();
          if (w.waitFor() != 0) {
            throw new IllegalStateException(label + ": a worker process failed");
          }
        }
        double seconds = measured.seconds;
        if (measured.completed != a.jobs()) {
          throw new IllegalStateException(label + ": completed " + measured.completed + " of " + a.jobs());
        }
        long open = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state <> 'SUCCEEDED'"));
        if (open != 0) {
          throw new IllegalStateException(label + ": " + open + " jobs did not end SUCCEEDED");
        }
        long[] all = measured.latencies;
        long[] group = ledger.groupCommitCounts();
        System.out.printf("%s: group commit carried %,d units in %,d transactions%n", label, group[1] - groupBefore[1],
            group[0] - groupBefore[0]);
        result = new Result(label, a.jobs(), seconds, percentile(all, 0.50), percentile(all, 0.99), HeapPeak.peakMb(),
            Double.NaN);
      } finally {
        for (Process w : workers) {
          w.destroyForcibly();
        }
        server.shutdownNow();
      }
    } finally {
      Shell.delete(tokenDir);
    }
    Optional<Long> commitsAfter = commitsBefore.isPresent() ? settledCommits(url) : Optional.empty();
    double txPerJob = commitsAfter.isPresent() ? (commitsAfter.get() - commitsBefore.get()) / (double) a.jobs()
        : Double.NaN;
    return new Result(result.name(), result.jobs(), result.seconds(), result.p50Ms(), result.p99Ms(),
        result.peakHeapMb(), txPerJob, cpu);
  }

  /**
   * How long each side warms up before its measured run (same JVMs, same database): rounds of {@link
   * #WARM_UP_ROUND} jobs until this much time has passed. A serve and its workers run for days; a
   * short warm-up left the JIT compiling through the measured run (at 20,000 jobs the gRPC line was half
   * what it is once compiled; after 15 s the C2 compiler threads still took a quarter of the machine).
   */
  static final java.time.Duration WARM_UP = java.time.Duration.ofSeconds(45);
  static final int WARM_UP_ROUND = 2000;

  /** A round's figures; its CPU is taken from "go" (after the enqueue) to its last answer. */
  private record Round(long completed, double seconds, long[] latencies, CpuMeter.Share cpu) {}

  /** Enqueues {@code jobs}, tells every worker to go, and gathers their figures once each found nothing left. */
  private static Round round(Ledger ledger, List<Process> workers, List<java.io.BufferedReader> outs, int jobs,
      String label) throws Exception {
    enqueue(ledger, jobs);
    List<Long> pids = workers.stream().map(Process::pid).toList();
    CpuMeter.Sample cpuAtGo = CpuMeter.sample(pids);
    long go = QueuePublisher.nowMicros();
    for (Process w : workers) {
      w.getOutputStream().write("go\n".getBytes());
      w.getOutputStream().flush();
    }
    long completed = 0;
    long last = go;
    List<long[]> latencies = new ArrayList<>();
    for (int i = 0; i < workers.size(); i++) {
      String line;
      while ((line = outs.get(i).readLine()) != null && !line.startsWith("done ")) {
        System.out.println("worker: " + line);
      }
      if (line == null) {
        throw new IllegalStateException(label + ": a worker process ended without its figures");
      }
      long[] f = Arrays.stream(line.substring(5).trim().split(" ")).mapToLong(Long::parseLong).toArray();
      completed += f[0];
      last = Math.max(last, f[1]);
      latencies.add(Arrays.stream(f, 2, f.length).map(us -> us * 1000).toArray());
    }
    CpuMeter.Share cpu = CpuMeter.sample(pids).perJobSince(cpuAtGo, (int) Math.max(1, completed));
    long[] all = latencies.stream().flatMapToLong(Arrays::stream).sorted().toArray();
    return new Round(completed, (last - go) / 1e6, all, cpu);
  }

  private static void enqueue(Ledger ledger, int jobs) {
    List<JobSpec> specs = new ArrayList<>();
    for (int i = 0; i < jobs; i++) {
      specs.add(JobSpec.builder(JobKind.BUILD).build());
      if (specs.size() == 1000) {
        ledger.jobs().enqueueAll(specs);
        specs.clear();
      }
    }
    if (!specs.isEmpty()) {
      ledger.jobs().enqueueAll(specs);
    }
  }

  /**
   * One slot of a worker with T slots, run as the build and capture workers run theirs: free slots
   * lease together through {@link SlotLeases} (one call for all of them), and each slot completes its
   * own job with one call. Answers lease latencies.
   */
  private static long[] work(Ledger ledger, String executor, SlotLeases<LeaseGrant> slots, AtomicLong done,
      int total) throws Exception {
    LeaseRequest base = LeaseRequest.of(executor, Set.of(JobKind.BUILD), Duration.ofMinutes(5));
    long[] lat = new long[1024];
    int n = 0;
    Completion ok = new Completion.Succeeded(null);
    while (done.get() < total) {
      long t0 = System.nanoTime();
      LeaseGrant grant = slots.next(want -> ledger.jobs().lease(base.withMaxJobs(want)));
      long dt = System.nanoTime() - t0;
      if (grant == null) {
        continue;
      }
      if (n == lat.length) {
        lat = Arrays.copyOf(lat, n * 2);
      }
      lat[n++] = dt;
      try {
        ledger.jobs().complete(grant.job().id(), grant.epoch(), ok);
        done.incrementAndGet();
      } finally {
        slots.finished();
      }
    }
    return Arrays.copyOf(lat, n);
  }

  private static long[] workBatched(Ledger ledger, String executor, int batch, AtomicLong done) {
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

  /** PostgreSQL's count of committed transactions in {@code url}'s database; empty on SQLite. */
  static Optional<Long> commits(String url) throws Exception {
    if (!url.startsWith("jdbc:postgresql:")) {
      return Optional.empty();
    }
    try (Connection c = DriverManager.getConnection(url, "postgres", ""); Statement s = c.createStatement();
        ResultSet rs = s.executeQuery("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()")) {
      rs.next();
      return Optional.of(rs.getLong(1));
    }
  }

  /** The commit count once it stops moving (sessions flush their statistics as they end). */
  static Optional<Long> settledCommits(String url) throws Exception {
    long last = commits(url).orElseThrow();
    for (int i = 0; i < 20; i++) {
      Thread.sleep(250); // statistics arrive asynchronously; a benchmark may wait for them
      long now = commits(url).orElseThrow();
      if (now == last) {
        // less the reads before this one (the 'before' read, then i + 1 here): each committed one transaction
        return Optional.of(now - (i + 2));
      }
      last = now;
    }
    return Optional.of(last);
  }

  static double percentile(long[] sortedNanos, double q) {
    if (sortedNanos.length == 0) {
      return Double.NaN;
    }
    int idx = (int) Math.min(sortedNanos.length - 1, Math.ceil(q * sortedNanos.length) - 1);
    return sortedNanos[Math.max(0, idx)] / 1e6;
  }
}
