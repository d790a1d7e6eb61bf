package dev.conveyor.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.testing.Cli;
import dev.conveyor.app.testing.Cli.Run;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.LocalDate;
import java.time.LocalDateTime;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Parquet files written by another engine (DuckDB), captured through serve, read back with {@code capture
 * stats --files --json}: per file and column, row count, null count, min and max equal DuckDB's own figures
 * over the same file, its exact distinct count lies within the sketch's bounds, and NaN counts equal a direct
 * count. Types: integers with nulls, doubles with NaN, decimals, dates, timestamps with and without UTC
 * adjustment, strings and booleans.
 */
class DuckDbStatsTest {
  @TempDir Path dir;

  private static final String[] COLUMNS = {"i", "d", "dec", "dt", "ts", "tstz", "s", "b"};

  @Test
  void statisticsOfDuckDbFilesMatchDuckDbsOwnFigures() throws Exception {
    Path table = Files.createDirectories(dir.resolve("events"));
    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement q = duck.createStatement()) {
      q.execute("SET TimeZone = 'UTC'");
      for (int f = 0; f < 2; f++) {
        int n = 3000 + f * 6000; // the second file has more distinct values than the sketch keeps: an estimate
        q.execute("COPY (SELECT"
            + " CASE WHEN x % 7 = 0 THEN NULL ELSE (x * 13) % 2003 - 500 END::INTEGER AS i,"
            + " CASE WHEN x % 11 = 0 THEN 'NaN'::DOUBLE WHEN x % 5 = 0 THEN NULL ELSE x / 7.0 END AS d,"
            + " ((x * 37) % 100000 / 100.0)::DECIMAL(12,2) AS dec,"
            + " DATE '2024-01-01' + (x % 400)::INTEGER AS dt,"
            + " TIMESTAMP '2024-03-01 00:00:00' + to_microseconds(x * 1234567) AS ts,"
            + " CASE WHEN x % 3 = 0 THEN NULL ELSE TIMESTAMPTZ '2024-03-01 00:00:00+00' + to_seconds(x * 61) END AS tstz,"
            + " 'user-' || (x % 977)::VARCHAR AS s,"
            + " CASE WHEN x % 13 = 0 THEN NULL ELSE x % 2 = 0 END AS b"
            + " FROM range(" + (f * 100) + ", " + (f * 100 + n) + ") t(x))"
            + " TO '" + table.resolve("part-" + f + ".parquet") + "' (FORMAT PARQUET)");
      }
    }
    Path data = dir.resolve("data");
    var config = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", true, 2, new CapturePlanner.Limits(2, 1L << 30), null, 0);
    JsonNode view;
    try (ControlPlane plane = ControlPlane.start(config)) {
      String server = "127.0.0.1:" + plane.port();
      String token = data.resolve("local-token").toString();
      assertThat(Cli.run("capture", "add-table", "events", table.toString(), "--server", server, "--token-file", token)
          .exit()).isZero();
      String jobId = Cli.run("capture", "start", "events", "--server", server, "--token-file", token).out()
          .replaceAll("(?s).*job (\\S+).*", "$1").trim();
      await().atMost(Duration.ofMinutes(1)).until(() -> plane.ledger().jobs().get(jobId).state().isTerminal());
      assertThat(plane.ledger().jobs().get(jobId).state()).isEqualTo(JobState.SUCCEEDED);
      Run stats = Cli.run("capture", "stats", "events", "--files", "--json", "--ledger",
          "sqlite:" + data.resolve("conveyor.db"));
      assertThat(stats.exit()).as(stats.err()).isZero();
      view = new ObjectMapper().readTree(stats.out());
    }
    assertThat(view.get("files")).hasSize(2);
    JsonNode types = view.get("columns");
    assertThat(types.get("i").get("type").asText()).isEqualTo("int");
    assertThat(types.get("d").get("type").asText()).isEqualTo("double");
    assertThat(types.get("dec").get("type").asText()).isEqualTo("decimal(12,2)");
    assertThat(types.get("dt").get("type").asText()).isEqualTo("date");
    assertThat(types.get("ts").get("type").asText()).isEqualTo("timestamp");
    assertThat(types.get("tstz").get("type").asText()).isEqualTo("timestamptz");
    assertThat(types.get("s").get("type").asText()).isEqualTo("string");
    assertThat(types.get("b").get("type").asText()).isEqualTo("boolean");

    try (Connection duck = DriverManager.getConnection("jdbc:duckdb:"); Statement q = duck.createStatement()) {
      q.execute("SET TimeZone = 'UTC'");
      for (JsonNode file : view.get("files")) {
        String path = table.resolve(Path.of(file.get("path").asText()).getFileName()).toString();
        for (String c : COLUMNS) {
          JsonNode ours = file.get("columns").get(c);
          String finite = c.equals("d") ? " WHERE NOT isnan(" + c + ")" : "";
          try (ResultSet rs = q.executeQuery("SELECT count(*), count(*) - count(" + c + "), (SELECT min(" + c
              + ") FROM read_parquet('" + path + "')" + finite + "), (SELECT max(" + c + ") FROM read_parquet('"
              + path + "')" + finite + "), count(DISTINCT " + c + "), "
              + (c.equals("d") ? "count(*) FILTER (WHERE isnan(d))" : "0") + " FROM read_parquet('" + path + "')")) {
            rs.next();
            String at = file.get("path").asText() + " column " + c;
            assertThat(ours.get("row_count").asLong()).as(at + " rows").isEqualTo(rs.getLong(1));
            assertThat(ours.get("null_count").asLong()).as(at + " nulls").isEqualTo(rs.getLong(2));
            assertThat(rendered(ours.get("min"))).as(at + " min").isEqualTo(expected(c, rs.getObject(3)));
            assertThat(rendered(ours.get("max"))).as(at + " max").isEqualTo(expected(c, rs.getObject(4)));
            long distinct = rs.getLong(5);
            assertThat(distinct).as(at + " distinct within the sketch's bounds")
                .isBetween(ours.get("ndv_lower").asLong(), ours.get("ndv_upper").asLong());
            if (c.equals("d")) {
              assertThat(ours.get("nan_count").asLong()).as(at + " NaN").isEqualTo(rs.getLong(6)).isPositive();
            }
          }
        }
      }
    }
  }

  private static String rendered(JsonNode v) {
    return v.isNumber() && v.isFloatingPointNumber() ? Double.toString(v.asDouble()) : v.asText();
  }

  /** DuckDB's value as capture renders it: ISO dates and times (a zone only for UTC-adjusted), plain decimals. */
  private static String expected(String column, Object v) {
    if (v instanceof BigDecimal d) {
      return d.toPlainString();
    }
    if (v instanceof LocalDateTime t) {
      return t.toString();
    }
    if (v instanceof java.sql.Timestamp t) {
      return column.equals("tstz") ? t.toInstant().toString() : t.toLocalDateTime().toString();
    }
    if (v instanceof OffsetDateTime t) {
      return t.withOffsetSameInstant(ZoneOffset.UTC).toInstant().toString();
    }
    if (v instanceof LocalDate d) {
      return d.toString();
    }
    if (v instanceof java.sql.Date d) {
      return d.toLocalDate().toString();
    }
    if (v instanceof Double d) {
      return Double.toString(d);
    }
    return String.valueOf(v);
  }
}
