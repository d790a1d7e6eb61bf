package dev.conveyor.app;

import dev.conveyor.app.testing.Cli.Run;
import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.app.testing.Cli.run;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** conveyor serve with a merge queue, driven by the land/status/list/watch/cancel verbs. */
class MergeQueueCliTest {
  @TempDir Path dir;


  @Test
  void landWatchStatusListAndCancelThroughServe() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n", "app.txt", "one\n"));
    String good = repos.commit("good", "main", "good change", files("docs.txt", "docs\n"));
    String broken = repos.commit("broken", "main", "broken change", files("BROKEN", "x\n"));
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Files.writeString(data.resolve("queues.properties"), "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = test ! -e BROKEN\n"
        + "queue.app.build-budget = 2\n");
    var config = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30),
        SubmitQueues.load(data.resolve("queues.properties")), 2, 0);
    try (ControlPlane plane = ControlPlane.start(config)) {
      assertThat(plane.runsSubmitQueue()).isTrue();
      String server = "127.0.0.1:" + plane.port();
      var probe = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", plane.port())
          .usePlaintext().build();
      try {
        var health = io.grpc.health.v1.HealthGrpc.newBlockingStub(probe); // no token: probes have none
        for (String service : new String[] {"", "conveyor.submitqueue.Gateway", "conveyor.reconcile.ReconcileControl"}) {
          assertThat(health.check(io.grpc.health.v1.HealthCheckRequest.newBuilder().setService(service).build())
              .getStatus()).as(service).isEqualTo(io.grpc.health.v1.HealthCheckResponse.ServingStatus.SERVING);
        }
      } finally {
        probe.shutdownNow();
      }
      String token = data.resolve("local-token").toString();

      Run land = run("land", "--server", server, "--token-file", token, "--queue", "app", "--watch",
          changeUri("good", good));
      assertThat(land.exit()).as(land.err()).isZero();
      assertThat(land.out()).startsWith("app/1").contains("app/1  STARTED", "app/1  LANDED");
      assertThat(repos.tip("main")).isEqualTo(good);
      // watched after the fact, every state it passed through is shown, in order, none skipped
      Run watched = run("watch", "--server", server, "--token-file", token, "app/1");
      assertThat(watched.exit()).isZero();
      assertThat(watched.out().lines().map(l -> l.replaceAll("^\\S+\\s+app/1\\s+(\\S+).*", "$1")).toList())
          .containsExactly("STARTED", "VALIDATED", "BATCHED", "LANDED");
      assertThat(land.out()).contains("app/1  VALIDATED", "app/1  BATCHED");
      // --json on each read verb: the documented messages, parsed
      var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
      var statusJson = mapper.readTree(run("status", "--json", "--server", server, "--token-file", token, "app/1")
          .out());
      assertThat(statusJson.get("status").get("request").get("state").asText()).isEqualTo("LANDED");
      assertThat(statusJson.get("history").get("entries").get(0).get("state").asText()).isEqualTo("STARTED");
      var listed = mapper.readTree(run("list", "--json", "--server", server, "--token-file", token, "--queue", "app")
          .out());
      assertThat(listed.get("requests").get(0).get("request_id").asText()).isEqualTo("app/1");
      var none = mapper.readTree(run("list", "--json", "--server", server, "--token-file", token, "--queue", "app",
          "--state", "CANCELLED").out());
      assertThat(none.get("requests").isArray()).as("an empty list is still a list").isTrue();
      assertThat(none.get("requests").size()).isZero();
      var queueJson = mapper.readTree(run("queue", "state", "--json", "--server", server, "--token-file", token, "app").out());
      assertThat(queueJson.get("queue").asText()).isEqualTo("app");

      Run failed = run("land", "--server", server, "--token-file", token, "--queue", "app", "--watch",
          changeUri("broken", broken));
      assertThat(failed.exit()).isEqualTo(1);
      assertThat(failed.out()).contains("app/2  ERROR", "build failed");

      var scrape = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
          java.net.URI.create("http://127.0.0.1:" + plane.httpPort() + "/metrics")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertThat(scrape.statusCode()).isEqualTo(200);
      assertThat(scrape.body()).contains("conveyor_ledger_up 1.0").contains("conveyor_submitqueue_requests{queue=\"app\",state=\"LANDED\"} 1")
          .contains("conveyor_ledger_host_clock_skew_seconds 0.0") // SQLite: the database's clock is the host's
          .contains("conveyor_submitqueue_requests{queue=\"app\",state=\"ERROR\"} 1")
          .contains("conveyor_jobs{kind=\"BUILD\",state=\"SUCCEEDED\"}")
          .contains("conveyor_stage_seconds_count{stage=\"validate\"}")
          .contains("conveyor_queue_lag{group=\"submitqueue-validate\"")
          .contains("conveyor_partition_takeovers{group=\"submitqueue-validate\"") // none on one node: 0
          .contains("conveyor_merge_seconds_count{kind=\"merge\",outcome=\"succeeded\",queue=\"app\"} 1")
          .contains("conveyor_merge_seconds_count{kind=\"check\",outcome=\"succeeded\",queue=\"app\"}")
          .contains("conveyor_build_seconds_count{outcome=\"passed\",queue=\"app\"} 1")
          .contains("conveyor_build_seconds_count{outcome=\"failed\",queue=\"app\"} 1")
          // two requests batched once each; nothing dead-lettered
          .contains("conveyor_stage_outcomes_total{outcome=\"advanced\",stage=\"batch\"} 2.0")
          .contains("conveyor_stage_outcomes_total{outcome=\"dead_lettered\",stage=\"batch\"} 0.0");

      Run status = run("status", "--server", server, "--token-file", token, "app/1");
      assertThat(status.out()).contains("app/1  LANDED", "batch app/b1 SUCCEEDED", "STARTED", "VALIDATED", "BATCHED");

      Run list = run("list", "--server", server, "--token-file", token, "--queue", "app", "--state", "ERROR");
      assertThat(list.out()).contains("app/2", "ERROR").doesNotContain("app/1 ");

      Run cancel = run("cancel", "--server", server, "--token-file", token, "app/1");
      assertThat(cancel.exit()).isEqualTo(1);
      // one line naming the request and why, and a hint that can help (not '--help' for a request that ended)
      assertThat(cancel.err()).contains("error: request app/1 already ended LANDED",
          "hint: it has ended: 'conveyor status ID' shows how").doesNotContain("Exception", "FAILED_PRECONDITION",
          "--help");

      Run unknown = run("land", "--server", server, "--token-file", token, "--queue", "nope", changeUri("good", good));
      assertThat(unknown.err()).contains("unknown queue 'nope'").doesNotContain("NOT_FOUND");
    }
  }
}
