package dev.conveyor.app;

import static dev.conveyor.app.testing.Cli.run;
import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.testing.Cli.Run;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * conveyor serve with a queue built by an external CI: the test is the CI, finding builds with
 * {@code conveyor ci pending --json}, reporting one check over HTTP ({@code POST /api/ci/builds/{id}}) and
 * one with {@code conveyor ci report}.
 */
class ExternalCiCliTest {
  @TempDir Path dir;

  @Test
  void ciFindsTheBuildAndReportsItsChecksByCliAndHttp() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    String change = repos.commit("feature", "main", "feature", files("feature.txt", "f\n"));
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    int deadPort;
    try (var probe = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      deadPort = probe.getLocalPort(); // the webhook's receiver is down for the whole test
    }
    Path secret = Files.writeString(dir.resolve("hook-secret"), "s3cret\n");
    Files.writeString(data.resolve("queues.properties"), "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-runner = external\n"
        + "queue.app.required-checks = unit,lint\n"
        + "queue.app.webhook-url = http://127.0.0.1:" + deadPort + "/hook\n"
        + "queue.app.webhook-secret-file = " + secret + "\n");
    var config = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30),
        SubmitQueues.load(data.resolve("queues.properties")), 1, 0);
    try (ControlPlane plane = ControlPlane.start(config)) {
      String server = "127.0.0.1:" + plane.port();
      String tokenFile = data.resolve("local-token").toString();
      String token = Files.readString(data.resolve("local-token")).strip();
      Run land = run("land", "--server", server, "--token-file", tokenFile, "--queue", "app", changeUri("feature", change));
      assertThat(land.exit()).as(land.err()).isZero();

      String json = Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(200))
          .until(() -> run("ci", "pending", "--server", server, "--token-file", tokenFile, "--json").out(),
              out -> out.contains("\"build_id\""));
      String buildId = json.replaceAll("(?s).*\"build_id\":\"([^\"]+)\".*", "$1").strip();
      assertThat(json).contains("\"ref\":\"refs/conveyor/app/", "\"state\":\"WAITING\"", "\"name\":\"unit\"");
      Run text = run("ci", "pending", "--server", server, "--token-file", tokenFile, "--queue", "app");
      assertThat(text.out()).contains(buildId, "refs/conveyor/app/", "check unit: PENDING", "check lint: PENDING",
          "git fetch " + repos.originUrl());

      HttpClient http = HttpClient.newHttpClient();
      URI report = URI.create("http://127.0.0.1:" + plane.httpPort() + "/api/ci/builds/" + buildId);
      String unitPassed = "{\"check\": \"unit\", \"passed\": true, \"url\": \"https://ci.example/1\"}";
      HttpResponse<String> noToken = http.send(HttpRequest.newBuilder(report).header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString(unitPassed)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(noToken.statusCode()).as("a token is needed even on loopback").isEqualTo(401);
      assertThat(noToken.body()).contains("ci-reporter", "Authorization: Bearer");
      HttpResponse<String> cookieToken = http.send(HttpRequest.newBuilder(report)
          .header("Content-Type", "application/json").header("Cookie", "conveyor_token=" + token)
          .POST(HttpRequest.BodyPublishers.ofString(unitPassed)).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(cookieToken.statusCode()).as("never a browser's cookie").isEqualTo(401);
      HttpResponse<String> form = http.send(HttpRequest.newBuilder(report).header("Authorization", "Bearer " + token)
          .header("Content-Type", "text/plain").POST(HttpRequest.BodyPublishers.ofString(unitPassed)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(form.statusCode()).isEqualTo(415);
      for (String notAReport : new String[] {"{}", "{\"check\": \"unit\", \"pass\": true}", "[1]", "{\"check\": "}) {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(report).header("Authorization", "Bearer " + token)
            .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(notAReport)).build(),
            HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(notAReport + ": " + r.body()).isEqualTo(400);
      }
      HttpResponse<String> huge = http.send(HttpRequest.newBuilder(report).header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(
              "{\"check\": \"" + "u".repeat(20_000) + "\"}")).build(), HttpResponse.BodyHandlers.ofString());
      assertThat(huge.statusCode()).isEqualTo(413);
      HttpResponse<String> badCheck = http.send(HttpRequest.newBuilder(report).header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json")
          .POST(HttpRequest.BodyPublishers.ofString("{\"check\": \"deploy\", \"passed\": true}")).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(badCheck.statusCode()).isEqualTo(400);
      assertThat(badCheck.body()).contains("'deploy' is not required", "[unit, lint]");
      HttpResponse<String> unit = http.send(HttpRequest.newBuilder(report).header("Authorization", "Bearer " + token)
          .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(unitPassed)).build(),
          HttpResponse.BodyHandlers.ofString());
      assertThat(unit.statusCode()).as(unit.body()).isEqualTo(200);
      assertThat(unit.body()).contains("\"state\":\"WAITING\"", "\"state\":\"PASSED\"", "https://ci.example/1");

      Run lint = run("ci", "report", buildId, "--server", server, "--token-file", tokenFile, "--check", "lint",
          "--passed", "--reported-by", "gitlab");
      assertThat(lint.exit()).as(lint.err()).isZero();
      assertThat(lint.out()).contains("build " + buildId + ": PASSED", "check lint: PASSED");

      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> run("status", "--server", server, "--token-file",
          tokenFile, "app/1").out().contains("app/1  LANDED"));
      assertThat(GitCli.run(repos.origin(), "ls-tree", "--name-only", "main")).contains("feature.txt");
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> GitCli.run(repos.origin(), "for-each-ref",
          "refs/conveyor/").isBlank());

      Run hooks = Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> run("queue", "webhooks", "--ledger",
          "sqlite:" + data.resolve("conveyor.db")), r -> r.out().contains("unreachable"));
      assertThat(hooks.exit()).as(hooks.err()).isZero();
      assertThat(hooks.out()).contains("waiting to be delivered", "http://127.0.0.1:" + deadPort + "/hook",
          "refused by the receiver (dead letters)").doesNotContain("s3cret");

      Run unknown = run("ci", "report", "nope", "--server", server, "--token-file", tokenFile, "--passed");
      assertThat(unknown.exit()).isEqualTo(1);
      assertThat(unknown.err()).contains("no external build 'nope'").doesNotContain("Exception");
      Run both = run("ci", "report", buildId, "--server", server, "--token-file", tokenFile, "--passed", "--failed");
      assertThat(both.exit()).isNotZero();
      assertThat(both.err()).contains("mutually exclusive");

      // conveyor revert: the first landing's base is recorded too; what cannot be done is explained plainly
      Run first = run("revert", "--server", server, "--token-file", tokenFile, "app/1");
      assertThat(first.exit()).as(first.err()).isZero();
      assertThat(first.out()).contains("reverting app/1 as app/2");
      Run missing = run("revert", "--server", server, "--token-file", tokenFile, "app/42");
      assertThat(missing.exit()).isEqualTo(1);
      assertThat(missing.err()).contains("app/42").doesNotContain("Exception");
    }
  }
}
