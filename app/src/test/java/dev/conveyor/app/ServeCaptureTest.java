package dev.conveyor.app;

import dev.conveyor.app.testing.Cli;
import dev.conveyor.app.testing.Cli.Run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** 'conveyor serve' wiring and the capture CLI against it, with the embedded local token. */
class ServeCaptureTest {
  @TempDir Path dir;

  private static Run cli(String... args) {
    return Cli.run(args);
  }

  private ControlPlane.Config config(Path data, String bind, ControlPlane.AuthMode auth) {
    return new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, bind, 0, auth, null, "conveyor",
        true, 2, new CapturePlanner.Limits(2, 1L << 30), null, 0);
  }

  @Test
  void aTableIsRegisteredCapturedAndReportedThroughTheCli() throws Exception {
    Path data = dir.resolve("data");
    Path table = Files.createDirectories(dir.resolve("sales"));
    long rows = 0;
    for (int i = 0; i < 5; i++) {
      rows += ParquetFileStatsTest.write(table.resolve("part-" + i + ".parquet"), 100 + i, i).rows;
    }
    try (ControlPlane plane = ControlPlane.start(config(data, "127.0.0.1", ControlPlane.AuthMode.LOCAL))) {
      String server = "127.0.0.1:" + plane.port();
      String token = data.resolve("local-token").toString();
      assertThat(Files.exists(data.resolve("local-token"))).isTrue();

      assertThat(cli("capture", "add-table", "sales", table.toString(), "--server", server, "--token-file", token)
          .out()).contains("registered sales");
      Run started = cli("capture", "start", "sales", "--server", server, "--token-file", token);
      assertThat(started.exit()).isZero();
      String jobId = started.out().replaceAll("(?s).*job (\\S+).*", "$1").trim();
      await().atMost(Duration.ofMinutes(1)).until(() -> plane.ledger().jobs().get(jobId).state().isTerminal());
      assertThat(plane.ledger().jobs().get(jobId).state()).isEqualTo(JobState.SUCCEEDED);

      assertThat(cli("capture", "status", jobId, "--server", server, "--token-file", token).out())
          .contains("PLAN_TABLE").contains("EXEC_FILE_GROUP").contains("FINALIZE_SNAPSHOT").contains("SUCCEEDED");
      assertThat(cli("capture", "jobs", "--server", server, "--token-file", token).out()).contains(jobId);
      // --json on each read verb: the documented message, parsed
      var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
      var tree = mapper.readTree(cli("capture", "status", jobId, "--json", "--server", server, "--token-file", token)
          .out());
      assertThat(tree.get("root").get("job").get("job_id").asText()).isEqualTo(jobId);
      assertThat(tree.get("root").get("children").size()).isPositive();
      var jobs = mapper.readTree(cli("capture", "jobs", "--json", "--server", server, "--token-file", token).out());
      assertThat(jobs.get("jobs").get(0).get("job_id").asText()).isEqualTo(jobId);
      assertThat(jobs.get("jobs").get(0).get("state").asText()).isEqualTo("RJS_SUCCEEDED");
      cli("capture", "schedule", "sales", "--every", "1h", "--server", server, "--token-file", token);
      var schedules = mapper.readTree(cli("capture", "schedules", "--json", "--server", server, "--token-file", token)
          .out());
      assertThat(schedules.get("schedules").get(0).get("table_id").asText()).isEqualTo("sales");
      assertThat(schedules.get("schedules").get(0).get("every_ms").asText()).isEqualTo("3600000");
      Run stats = cli("capture", "stats", "sales", "--ledger", "sqlite:" + data.resolve("conveyor.db"));
      assertThat(stats.out()).contains("5 files, " + rows + " rows").contains("amount").contains("decimal(12,2)")
          .contains("NDV (BOUNDS)").contains("(the newest capture of this directory;");
      Run json = cli("capture", "stats", "sales", "--files", "--json", "--columns", "amount,id", "--ledger",
          "sqlite:" + data.resolve("conveyor.db"));
      assertThat(json.exit()).as(json.err()).isZero();
      var view = new com.fasterxml.jackson.databind.ObjectMapper().readTree(json.out());
      assertThat(view.get("table").asText()).isEqualTo("sales");
      assertThat(view.get("snapshot_chosen").asText()).isEqualTo("newest_captured");
      assertThat(view.get("completeness").get("files_captured").asLong()).isEqualTo(5);
      assertThat(view.get("columns").size()).isEqualTo(2);
      var amount = view.get("columns").get("amount");
      assertThat(amount.get("type").asText()).isEqualTo("decimal(12,2)");
      assertThat(amount.get("min").asText()).as("a decimal keeps its scale").matches("-?\\d+\\.\\d{2}");
      assertThat(amount.get("ndv_lower").asLong()).isLessThanOrEqualTo(amount.get("ndv").asLong());
      assertThat(amount.get("ndv").asLong()).isLessThanOrEqualTo(amount.get("ndv_upper").asLong());
      assertThat(view.get("columns").get("id").get("min").isNumber()).as("an integer is a JSON number").isTrue();
      long fileRows = 0;
      for (var f : view.get("files")) {
        fileRows += f.get("row_count").asLong();
        assertThat(f.get("columns").get("id").get("row_count").asLong()).isEqualTo(f.get("row_count").asLong());
      }
      assertThat(view.get("files").size()).isEqualTo(5);
      assertThat(fileRows).isEqualTo(rows);
      Run unknownColumn = cli("capture", "stats", "sales", "--columns", "nope", "--ledger",
          "sqlite:" + data.resolve("conveyor.db"));
      assertThat(unknownColumn.exit()).as("bad input").isEqualTo(2);
      assertThat(unknownColumn.err()).contains("columns: 'nope' is not a captured column").doesNotContain("\tat ");
      // the same through ReconcileControl: GetTableStats, and ListFileStats a page of two at a time
      var channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", plane.port())
          .usePlaintext().build();
      try {
        String secret = Files.readString(data.resolve("local-token")).strip();
        var control = dev.conveyor.api.reconcile.ReconcileControlGrpc.newBlockingStub(channel)
            .withCallCredentials(new dev.conveyor.reconcile.auth.BearerCredentials(() -> secret));
        var tableStats = control.getTableStats(dev.conveyor.api.reconcile.GetTableStatsRequest.newBuilder()
            .setTableId("sales").addColumns("amount").build());
        assertThat(tableStats.getSnapshotId()).isEqualTo(view.get("snapshot").asText());
        assertThat(tableStats.getColumnsList()).hasSize(1);
        assertThat(tableStats.getColumns(0).getType()).isEqualTo("decimal(12,2)");
        assertThat(tableStats.getColumns(0).getNdv()).isEqualTo(amount.get("ndv").asLong());
        java.util.List<String> paths = new java.util.ArrayList<>();
        String pageToken = "";
        int pages = 0;
        do {
          var page = control.listFileStats(dev.conveyor.api.reconcile.ListFileStatsRequest.newBuilder()
              .setTableId("sales").setPageSize(2).setPageToken(pageToken).build());
          page.getFilesList().forEach(f -> paths.add(f.getPath()));
          pageToken = page.getNextPageToken();
          pages++;
        } while (!pageToken.isEmpty());
        assertThat(pages).isEqualTo(3);
        assertThat(paths).hasSize(5).doesNotHaveDuplicates().isSorted();
        var missing = org.assertj.core.api.Assertions.catchThrowableOfType(() -> control.getTableStats(
            dev.conveyor.api.reconcile.GetTableStatsRequest.newBuilder().setTableId("nope").build()),
            io.grpc.StatusRuntimeException.class);
        assertThat(missing.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.NOT_FOUND);
        var tooMany = org.assertj.core.api.Assertions.catchThrowableOfType(() -> control.listFileStats(
            dev.conveyor.api.reconcile.ListFileStatsRequest.newBuilder().setTableId("sales").setPageSize(5000).build()),
            io.grpc.StatusRuntimeException.class);
        assertThat(tooMany.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT);
        assertThat(tooMany.getStatus().getDescription()).contains("page_size");
      } finally {
        channel.shutdownNow();
      }

      Path elsewhere = dir.resolve("elsewhere").resolve("conveyor.db");
      Run noLedger = cli("capture", "stats", "sales", "--ledger", "sqlite:" + elsewhere);
      assertThat(noLedger.exit()).isEqualTo(1);
      assertThat(noLedger.err()).contains("no ledger at");
      assertThat(elsewhere).as("a command that only reads never creates a ledger").doesNotExist();

      Path wrong = Files.writeString(dir.resolve("wrong-token"), "not-the-token");
      Run refused = cli("capture", "jobs", "--server", server, "--token-file", wrong.toString());
      assertThat(refused.exit()).isEqualTo(1);
      assertThat(refused.err()).contains("UNAUTHENTICATED").contains("hint: check --token-file")
          .doesNotContain("\tat ");

      // this server has no queues: a merge-queue command says so instead of "UNIMPLEMENTED: Method not found"
      Run noQueue = cli("list", "--server", server, "--token-file", token);
      assertThat(noQueue.exit()).isEqualTo(1);
      assertThat(noQueue.err()).contains("runs no merge queue").contains("queue.<name>.remote")
          .doesNotContain("Method not found");
    }
  }

  @Test
  void aPartialCaptureNamesItsUnreadableFilesInStatusAndStats() throws Exception {
    Path data = dir.resolve("data");
    Path table = Files.createDirectories(dir.resolve("sales"));
    for (int i = 0; i < 6; i++) {
      ParquetFileStatsTest.write(table.resolve("part-" + i + ".parquet"), 50 + i, i);
    }
    byte[] good = Files.readAllBytes(table.resolve("part-0.parquet"));
    Files.write(table.resolve("a-half.parquet"), java.util.Arrays.copyOf(good, good.length / 2));
    Files.writeString(table.resolve("b-notes.parquet"), "id,name\n1,alice\n");
    var withPage = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", true, 2, new CapturePlanner.Limits(4, 1L << 30), null, 0, 0);
    try (ControlPlane plane = ControlPlane.start(withPage)) {
      String server = "127.0.0.1:" + plane.port();
      String token = data.resolve("local-token").toString();
      cli("capture", "add-table", "sales", table.toString(), "--server", server, "--token-file", token);
      String jobId = cli("capture", "start", "sales", "--server", server, "--token-file", token).out()
          .replaceAll("(?s).*job (\\S+).*", "$1").trim();
      await().atMost(Duration.ofMinutes(1)).until(() -> plane.ledger().jobs().get(jobId).state().isTerminal());
      assertThat(plane.ledger().jobs().get(jobId).state()).isEqualTo(JobState.SUCCEEDED);

      String summary = "partial: 6 of 8 files; 2 unreadable: a-half.parquet (truncated: cut short";
      assertThat(cli("capture", "status", jobId, "--server", server, "--token-file", token).out())
          .contains(summary).contains("b-notes.parquet (not parquet: no Parquet magic at its head");
      Run stats = cli("capture", "stats", "sales", "--ledger", "sqlite:" + data.resolve("conveyor.db"));
      assertThat(stats.out()).contains("6 files").contains(summary)
          .contains("the statistics below cover only the 6 captured files");

      // the status page's snapshot says the same
      var page = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + plane.httpPort() + "/api/status")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      var snapshot = new com.fasterxml.jackson.databind.ObjectMapper().readTree(page.body())
          .get("captures").get(0).get("snapshots").get(0);
      assertThat(snapshot.get("partial").asBoolean()).isTrue();
      assertThat(snapshot.get("planned").asLong()).isEqualTo(8);
      assertThat(snapshot.get("captured").asLong()).isEqualTo(6);
      assertThat(snapshot.get("unreadable").findValuesAsText("cause")).containsExactly("TRUNCATED", "NOT_PARQUET");
      assertThat(snapshot.get("unreadable").get(0).get("path").asText()).endsWith("a-half.parquet");
    }
  }

  @Test
  void aServerWithoutAuthRefusesToListenBeyondLoopback() {
    assertThatThrownBy(() -> ControlPlane.start(config(dir.resolve("d"), "0.0.0.0", ControlPlane.AuthMode.NONE)))
        .hasMessageContaining("refusing to listen on 0.0.0.0 with auth disabled");
  }

  @Test
  void anUnreachableServerIsOneClearLine() {
    Run r = cli("capture", "jobs", "--server", "127.0.0.1:1", "--token-file", dir.resolve("none").toString());
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("UNAVAILABLE").contains("is 'conveyor serve' running there?");
  }
}
