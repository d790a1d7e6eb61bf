package dev.conveyor.bench;

import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.capture.pageindex.PageIndexReader;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.capture.stats.ParquetFileStats;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * Capture next to DuckDB on the same files, both with 2 threads: (a) footer and page-index work
 * against DuckDB's parquet_metadata, (b) full statistics with NDV against DuckDB computing count,
 * null count and approx_count_distinct per column and file, with min and max from the footers on both
 * sides (and, as a second line, recomputed from the values on both sides). Each is run once to warm up and
 * then five times, and the best run is reported, next to reading the same bytes from the page cache.
 */
final class DuckDbBench {
  private static final int THREADS = 2;
  private static final int FOOTER_PASSES = 10;
  private static final List<String> COLUMNS = List.of("order_id", "customer", "amount", "ordered_at", "score");

  private DuckDbBench() {}

  interface Work {
    long run() throws Exception;
  }

  static void run(BenchArgs a) throws Exception {
    Path dir = Files.createTempDirectory("conveyor-duckdb-bench");
    try {
      Path probe = Files.createDirectories(dir.resolve("probe"));
      SampleTable.write(probe, 1, 100_000);
      long bytesPerRow = Math.max(1, Files.size(probe.resolve("orders-000.parquet")) / 100_000);
      int files = 16;
      int rowsPerFile = (int) (a.mb() * 1024L * 1024 / files / bytesPerRow);
      Path table = dir.resolve("table");
      long t0 = System.nanoTime();
      SampleTable.write(table, files, rowsPerFile);
      List<Path> paths;
      try (Stream<Path> s = Files.list(table)) {
        paths = s.sorted().toList();
      }
      long bytes = paths.stream().mapToLong(p -> p.toFile().length()).sum();
      double mb = bytes / 1e6;
      System.out.printf("table: %d files, %.0f MB, %,d rows (generated in %.0f s); %d threads each%n", files, mb,
          (long) files * rowsPerFile, (System.nanoTime() - t0) / 1e9, THREADS);

      double read = twice(() -> readAll(paths));
      System.out.printf("physical reference: reading the bytes from the page cache: %,.0f MB/s%n", mb / read);

      try (Connection duck = DriverManager.getConnection("jdbc:duckdb:")) {
        try (Statement s = duck.createStatement()) {
          s.execute("SET threads = " + THREADS);
          // read every footer each run, as capture does: no cross-query metadata cache
          for (String setting : List.of("enable_object_cache", "parquet_metadata_cache")) {
            try {
              s.execute("SET " + setting + " = false");
              System.out.println("duckdb: " + setting + " = false");
            } catch (java.sql.SQLException e) {
              // not a setting of this DuckDB version
            }
          }
        }
        String glob = table.resolve("*.parquet").toString();
        // footer work is a few milliseconds per table: time ten passes so the figure is not noise
        double footerConveyor = twice(() -> repeat(FOOTER_PASSES, () -> parallel(paths, p -> ParquetFileStats
            .capture(p, "t", "s", ColumnSelection.newBuilder().setAll(true).build(), false).getColumnsCount())))
            / FOOTER_PASSES;
        double indexConveyor = twice(() -> parallel(paths, p -> PageIndexReader.read(p, COLUMNS).entries().size()));
        double footerDuck = twice(() -> repeat(FOOTER_PASSES,
            () -> count(duck, "SELECT * FROM parquet_metadata('" + glob + "')"))) / FOOTER_PASSES;
        System.out.printf("(a) footer statistics: conveyor %,.0f MB/s (%.1f ms per pass), duckdb parquet_metadata %,.0f MB/s"
            + " (%.1f ms per pass), ratio %.2fx (target >= 1); conveyor page index from the native index: %,.0f MB/s (%.0f ms)%n",
            mb / footerConveyor, footerConveyor * 1000, mb / footerDuck, footerDuck * 1000, footerDuck / footerConveyor,
            mb / indexConveyor, indexConveyor * 1000);

        // (b) the same statistics on both sides: per file and column count, null count and NDV from the
        // values, min and max from the footers (both trust them; DuckDB's parquet_metadata reads them)
        double fullConveyor = twice(() -> parallel(paths, p -> ParquetFileStats.capture(p, "t", "s",
            ColumnSelection.newBuilder().setAll(true).build(), true).getColumnsCount()));
        String scan = fullStatisticsQuery(glob, false);
        double fullDuck = twice(() -> count(duck, scan) + count(duck, "SELECT path_in_schema, stats_min_value,"
            + " stats_max_value, stats_null_count FROM parquet_metadata('" + glob + "')"));
        System.out.printf("(b) full statistics with NDV, footer min/max trusted on both sides: conveyor %,.0f MB/s,"
            + " duckdb %,.0f MB/s (scan for counts and approx_count_distinct, parquet_metadata for min/max),"
            + " ratio %.2fx (target >= 1)%n", mb / fullConveyor, mb / fullDuck, fullDuck / fullConveyor);
        // second line: both recompute min and max from every value
        double recomputeConveyor = twice(() -> parallel(paths, p -> ParquetFileStats.capture(p, "t", "s",
            ColumnSelection.newBuilder().setAll(true).build(), true, true).getColumnsCount()));
        String scanOrdered = fullStatisticsQuery(glob, true);
        double recomputeDuck = twice(() -> count(duck, scanOrdered));
        System.out.printf("second line, (b) with min/max recomputed from the values on both sides: conveyor %,.0f"
            + " MB/s, duckdb %,.0f MB/s, ratio %.2fx%n", mb / recomputeConveyor, mb / recomputeDuck,
            recomputeDuck / recomputeConveyor);
      }
    } finally {
      Shell.delete(dir);
    }
  }

  /** DuckDB's per-file statistics of every column: counts and NDV, and min/max when {@code ordered}. */
  private static String fullStatisticsQuery(String glob, boolean ordered) {
    StringBuilder q = new StringBuilder("SELECT filename, count(*)");
    for (String c : COLUMNS) {
      q.append(", count(").append(c).append("), count(*) - count(").append(c).append("), approx_count_distinct(")
          .append(c).append(')');
      if (ordered) {
        q.append(", min(").append(c).append("), max(").append(c).append(')');
      }
    }
    return q.append(" FROM read_parquet('").append(glob).append("', filename = true) GROUP BY filename").toString();
  }

  /** Seconds of the best of five runs after a warm-up (page cache and JIT warm; footer-level runs are short and noisy). */
  private static double twice(Work w) throws Exception {
    w.run();
    double best = Double.MAX_VALUE;
    for (int i = 0; i < 5; i++) {
      long t = System.nanoTime();
      w.run();
      best = Math.min(best, (System.nanoTime() - t) / 1e9);
    }
    return best;
  }

  interface PerFile {
    long apply(Path p) throws Exception;
  }

  private static long parallel(List<Path> paths, PerFile f) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    try {
      List<Future<Long>> out = new ArrayList<>();
      for (Path p : paths) {
        out.add(pool.submit(() -> f.apply(p)));
      }
      long n = 0;
      for (Future<Long> r : out) {
        n += r.get();
      }
      return n;
    } finally {
      pool.shutdownNow();
    }
  }

  private static long repeat(int times, Work w) throws Exception {
    long n = 0;
    for (int i = 0; i < times; i++) {
      n += w.run();
    }
    return n;
  }

  private static long count(Connection c, String sql) throws Exception {
    long n = 0;
    try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
      int cols = rs.getMetaData().getColumnCount();
      while (rs.next()) {
        for (int i = 1; i <= cols; i++) {
          rs.getObject(i);
        }
        n++;
      }
    }
    return n;
  }

  private static long readAll(List<Path> paths) throws Exception {
    byte[] buf = new byte[1 << 20];
    long n = 0;
    for (Path p : paths) {
      try (InputStream in = Files.newInputStream(p)) {
        for (int r; (r = in.read(buf)) > 0; ) {
          n += r;
        }
      }
    }
    return n;
  }
}
