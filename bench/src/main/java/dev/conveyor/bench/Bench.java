package dev.conveyor.bench;

import java.util.Arrays;

/** Entry point: {@code bin/conveyor-bench <benchmark> [options]}. */
public final class Bench {
  private Bench() {}

  public static void main(String[] args) throws Exception {
    if (args.length == 0 || args[0].equals("--help")) {
      System.out.println("usage: bin/conveyor-bench jobs [--jobs N] [--threads T] [--batch B] [--pg HOST:PORT]");
      System.out.println("  jobs   leased-job throughput on PostgreSQL and SQLite, next to db-scheduler");
      System.out.println("  queue  message hand-off latency and throughput, 16 partitions (--jobs = messages)");
      System.out.println("  capture  one capture worker on a generated table of --mb megabytes (default 1024)");
      System.out.println("  duckdb   capture next to DuckDB on ~--mb MB (default 1024; the issue's figure uses --mb 800)");
      System.out.println("  runway   a 10-step REBASE merge + push on 20,000 files / 5,000 commits, next to command-line git");
      System.out.println("  submitqueue  100 land requests, serial vs speculative budgets 1/4/8 (--build-ms, default 1000)");
      return;
    }
    String[] rest = Arrays.copyOfRange(args, 1, args.length);
    switch (args[0]) {
      case "jobs" -> JobsBench.run(BenchArgs.parse(rest));
      case "queue" -> QueueBench.run(BenchArgs.parse(rest));
      case "capture" -> CaptureBench.run(BenchArgs.parse(rest));
      case "runway" -> RunwayBench.run(BenchArgs.parse(rest));
      case "duckdb" -> DuckDbBench.run(BenchArgs.parse(rest));
      case "submitqueue" -> SubmitQueueBench.run(BenchArgs.parse(rest));
      default -> {
        System.err.println("error: unknown benchmark '" + args[0] + "'; try: jobs, queue, capture, duckdb, runway, submitqueue");
        System.exit(2);
      }
    }
  }
}
