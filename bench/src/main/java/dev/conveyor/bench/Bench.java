package dev.conveyor.bench;

import java.util.Arrays;

/** Entry point: {@code bin/conveyor-bench <benchmark> [options]}. */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println("usage: bin/conveyor-bench jobs [--jobs N] [--threads T] [--batch B] [--pg HOST:PORT]");
      System.out.println("  jobs   leased-job throughput on PostgreSQL and SQLite, next to db-scheduler [--backend both|postgres|sqlite]");
      System.out.println("  queue  message hand-off latency and throughput, 16 partitions (--jobs = messages)");
      System.out.println("  capture  one capture worker on a generated table of --mb megabytes (default 1024)");
      System.out.println("           --s3: the same table from local disk and through an S3 server on loopback (as an"
          + " Iceberg table in a REST catalog), MB/s both ways, and the Puffin file's write and registration");
      System.out.println("  duckdb   capture next to DuckDB on ~--mb MB (default 1024; the issue's figure uses --mb 800)");
      System.out.println("  runway   a 10-step REBASE merge + push on 20,000 files / 5,000 commits, next to command-line git");
      System.out.println("  submitqueue  100 land requests, serial vs speculative budgets 1/4/8 (--build-ms, default 1000)");
      System.out.println("           --nodes N: a fleet of 1 and then N serve nodes on PostgreSQL: landed/hour, ledger"
          + " transactions and row writes per landed change, idle cost, and the stall after killing the queue's owner");
      System.out.println("  soak   a compressed month: serve with 1-minute retentions under a steady mix [--minutes M (10)]");
      System.out.println("         [--sample-seconds S (30)] [--backend both|postgres|sqlite]; exits 1 on growth or lost work");
      System.out.println("  quiet  one change at a time on a quiet queue through serve: land -> LANDED, and time to each state");
      System.out.println("  durability  the Durability service through gRPC: signals emitted (1 and 8 emitters) and replayed"
          + " per second, claim+complete cycles per second, FollowSignals latency p50/p99 [--backend] [--jobs N]");
      System.out.println("  cli    warm start-up of bin/conveyor --help, list and status against a running serve");
      System.out.println("every benchmark: --db-prefix P (default conveyor_bench_) names the PostgreSQL databases it"
          + " creates, and it drops only those");
      return;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    boolean ok = true;
    try {
      ok = run(args[0], rest);
    } catch (IllegalArgumentException e) {
      System.err.println("error: " + e.getMessage());
      System.exit(2);
    } finally {
      Pg.dropCreated();
    }
    System.exit(ok ? 0 : 1);
  }

  private static boolean run(String benchmark, String[] rest) throws Exception {
    switch (benchmark) {
      case "jobs" -> JobsBench.run(BenchArgs.parse(rest));
      case "queue" -> QueueBench.run(BenchArgs.parse(rest));
      case "capture" -> {
        if (java.util.Arrays.asList(rest).contains("--s3")) {
          return LakehouseBench.run(BenchArgs.parse(java.util.Arrays.stream(rest).filter(r -> !r.equals("--s3"))
              .toArray(String[]::new)));
        }
        CaptureBench.run(BenchArgs.parse(rest));
      }
      case "runway" -> RunwayBench.run(BenchArgs.parse(rest));
      case "duckdb" -> DuckDbBench.run(BenchArgs.parse(rest));
      case "submitqueue" -> {
        BenchArgs a = BenchArgs.parse(rest);
        if (a.nodes() > 0) {
          return SubmitQueueFleetBench.run(a);
        } else {
          SubmitQueueBench.run(a);
        }
      }
      case "quiet" -> {
        return QuietQueueBench.run(BenchArgs.parse(rest));
      }
      case "durability" -> {
        return DurabilityBench.run(BenchArgs.parse(rest));
      }
      case "cli" -> {
        return CliBench.run(BenchArgs.parse(rest));
      }
      case "soak" -> {
        return dev.conveyor.bench.soak.SoakBench.run(BenchArgs.parse(rest));
      }
      default -> throw new IllegalArgumentException("unknown benchmark '" + benchmark
          + "'; try: jobs, queue, capture, duckdb, runway, submitqueue, quiet, soak, durability, cli");
    }
    return true;
  }
}
