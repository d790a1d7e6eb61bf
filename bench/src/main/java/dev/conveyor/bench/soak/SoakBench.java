package dev.conveyor.bench.soak;

import dev.conveyor.bench.BenchArgs;
import dev.conveyor.bench.GitOrigin;
import dev.conveyor.bench.Pg;
import dev.conveyor.bench.ServeProcess;
import dev.conveyor.bench.Shell;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * A compressed month: one {@code serve} per ledger, every retention one minute, under a steady mix of
 * leased jobs, messages on 16 partitions, land requests and small captures. Prints each ledger table's
 * rows, the database size, serve's RSS and its heap after a full GC every sample; fails when a table or
 * the RSS keeps growing over the last half of the run, or when work is lost. Nothing here deletes
 * anything: every row that goes, goes through serve's own maintenance leader.
 */
public final class SoakBench {
  private static final long MB = 1024 * 1024;
  private static final String RETENTIONS = "retention.interval = 15s\n"
      + "retention.jobs = 1m\nretention.result-chunks = 1m\nretention.messages = 1m\nretention.dead-letters = 1m\n"
      + "retention.effect-claims = 1m\nretention.requests = 1m\nretention.batches = 1m\nretention.paths = 1m\n"
      + "retention.build-logs = 1m\n";

  private SoakBench() {}

  private record Sample(double seconds, Map<String, Long> rows, long dbBytes, long rssBytes, long heapBytes,
      String work) {}

  /** Answers whether every run held steady and lost nothing. */
  public static boolean run(BenchArgs a) throws Exception {
    Path root = Path.of(System.getProperty("conveyor.root", ".")).toAbsolutePath().normalize();
    System.out.printf("soak: %.1f min per ledger, a sample every %d s, every retention 1 min (maintenance every"
        + " 15 s); mix: 50 jobs/s, 100 messages/s on 16 partitions (1%% dead-lettered), a land request every 5 s"
        + " (build: true), a capture of a small table every 20 s%n", a.minutes(), a.sampleSeconds());
    boolean ok = true;
    if (a.runs("postgres")) {
      ok &= soak("PostgreSQL", Pg.ledgerUrl(Pg.freshDatabase(a, "soak")), root, a);
    }
    if (a.runs("sqlite")) {
      ok &= soak("SQLite", null, root, a);
    }
    return ok;
  }

  private static boolean soak(String name, String pgUrl, Path root, BenchArgs a) throws Exception {
    Path dir = Files.createTempDirectory("conveyor-soak");
    try {
      Path data = dir.resolve("data");
      String url = pgUrl != null ? pgUrl : "sqlite:" + data.resolve("conveyor.db");
      GitOrigin git = GitOrigin.create(dir);
      List<Path> tables = List.of(dir.resolve("tables/orders_a"), dir.resolve("tables/orders_b"));
      for (Path t : tables) {
        SampleTable.write(t, 4, 5_000);
      }
      String settings = "ledger = " + url + "\n" + RETENTIONS + "queue.soak.remote = " + git.origin() + "\n"
          + "queue.soak.build-command = true\nqueue.soak.build-budget = 2\n";
      System.out.printf("%n== %s: serve with ledger %s ==%n", name, url);
      try (ServeProcess serve = ServeProcess.start(root, data, settings)) {
        serve.awaitReady();
        try (Ledger ledger = Ledger.open(LedgerOptions.defaults(url).withPoolSize(6));
            LedgerLoad library = new LedgerLoad(ledger, 50, 100).start();
            ServerLoad server = ServerLoad.start(serve, git, tables, 5_000, 20_000)) {
          List<Sample> samples = drive(serve, ledger, library, server, a);
          library.stopSubmitting();
          server.stopSubmitting();
          long deadline = System.nanoTime() + Duration.ofMinutes(3).toNanos();
          while (!(library.drained() && server.drained()) && System.nanoTime() < deadline && serve.alive()) {
            Thread.sleep(500); // a benchmark waiting for the mix to drain; no correctness rests on it
          }
          List<String> problems = new ArrayList<>(library.problems());
          problems.addAll(server.problems());
          if (!serve.alive()) {
            problems.add("serve exited during the run; its log ends:\n" + serve.logTail(30));
          }
          List<String> warnings = serve.warnings();
          System.out.printf("%nserve logged %d warnings or errors%s%n", warnings.size(), warnings.isEmpty() ? ""
              : "; the first:\n  " + String.join("\n  ", warnings.subList(0, Math.min(5, warnings.size()))));
          return verdict(name, samples, problems);
        }
      }
    } finally {
      Shell.delete(dir);
    }
  }

  private static List<Sample> drive(ServeProcess serve, Ledger ledger, LedgerLoad library, ServerLoad server,
      BenchArgs a) throws Exception {
    Census census = new Census(ledger);
    List<Sample> samples = new ArrayList<>();
    long start = System.nanoTime();
    long end = start + (long) (a.minutes() * 60e9);
    long next = start;
    while (serve.alive()) {
      long now = System.nanoTime();
      if (now >= next) {
        Sample s = new Sample((now - start) / 1e9, census.rowCounts(), census.databaseBytes(), serve.rssBytes(),
            serve.heapAfterGcBytes(), library.counters() + "  " + server.counters());
        samples.add(s);
        print(s);
        if (now >= end) {
          break;
        }
        next += a.sampleSeconds() * 1_000_000_000L;
      }
      Thread.sleep(Math.max(1, Math.min(1000, (next - System.nanoTime()) / 1_000_000)));
    }
    return samples;
  }

  private static void print(Sample s) {
    System.out.printf("t=%4.0fs  rss %4d MB  heap after GC %4d MB  database %6.1f MB  | %s%n", s.seconds(),
        s.rssBytes() / MB, s.heapBytes() / MB, s.dbBytes() / (double) MB, s.work());
    StringBuilder rows = new StringBuilder("        rows:");
    s.rows().forEach((table, count) -> rows.append(' ').append(table).append('=').append(count));
    System.out.println(rows);
  }

  private static boolean verdict(String name, List<Sample> samples, List<String> problems) {
    Map<String, List<Long>> series = new LinkedHashMap<>();
    for (String table : new TreeSet<>(samples.get(samples.size() - 1).rows().keySet())) {
      series.put(table, samples.stream().map(s -> s.rows().getOrDefault(table, 0L)).toList());
    }
    List<String> growing = new ArrayList<>();
    boolean judged = true;
    for (var e : series.entrySet()) {
      Growth g = Growth.of(e.getValue(), 20, 0.05);
      judged &= g.judged();
      if (g.grows()) {
        growing.add(e.getKey() + " (" + g.earlierMax() + " -> at least " + g.laterMin() + ")");
      }
    }
    Growth rss = Growth.of(samples.stream().map(Sample::rssBytes).toList(), 16 * MB, 0.05);
    if (rss.grows()) {
      growing.add("serve RSS (" + rss.earlierMax() / MB + " MB -> at least " + rss.laterMin() / MB + " MB)");
    }
    Sample last = samples.get(samples.size() - 1);
    long maxRss = samples.stream().mapToLong(Sample::rssBytes).max().orElse(0);
    long maxHeap = samples.stream().mapToLong(Sample::heapBytes).max().orElse(0);
    long maxDb = samples.stream().mapToLong(Sample::dbBytes).max().orElse(0);
    long maxRows = samples.stream().mapToLong(s -> s.rows().values().stream().mapToLong(Long::longValue).sum())
        .max().orElse(0);
    System.out.printf("%n%s summary after %.0f s: rss max %d MB (last %d), heap after GC max %d MB (last %d),"
        + " database max %.1f MB (last %.1f), ledger rows max %,d (last %,d)%n", name, last.seconds(), maxRss / MB,
        last.rssBytes() / MB, maxHeap / MB, last.heapBytes() / MB, maxDb / (double) MB, last.dbBytes() / (double) MB,
        maxRows, last.rows().values().stream().mapToLong(Long::longValue).sum());
    System.out.println(name + " work: " + last.work());
    if (!judged) {
      System.out.println(name + ": too few samples to judge growth (run longer, or sample more often)");
    }
    growing.forEach(g -> System.out.println(name + " GROWS over the last half: " + g));
    problems.forEach(p -> System.out.println(name + " LOST OR FAILED: " + p));
    boolean ok = growing.isEmpty() && problems.isEmpty();
    System.out.println(name + ": " + (ok ? "steady: no table and not the RSS kept growing; no work lost" : "FAILED"));
    return ok;
  }
}
