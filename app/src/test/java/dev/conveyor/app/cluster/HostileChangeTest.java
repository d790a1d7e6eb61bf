package dev.conveyor.app.cluster;

import dev.conveyor.app.testing.Cli;
import dev.conveyor.app.testing.Cli.Run;
import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.runway.testing.GitRepos;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14's attacks 1 and 2 against a real {@code conveyor serve} (child JVM), real repositories
 * and the CLI: a change that tries to write outside its build directory, and a build that tries to
 * read serve's environment and local token and to publish them through the request's reason.
 */
class HostileChangeTest {

  @org.junit.jupiter.api.BeforeAll
  static void needsBubblewrap() {
    dev.conveyor.ledger.testing.HostTools.assumeUsable("bubblewrap",
        dev.conveyor.submitqueue.build.BuildRunners.bubblewrapUnavailable(), "CONVEYOR_REQUIRE_BWRAP",
        "apt-get install bubblewrap");
  }

  @TempDir Path dir;

  private static Run cli(String... args) {
    return Cli.run(args);
  }

  @Test
  void aDuplicateEntryChangeEndsInErrorNamingTheMalformedTreeAndWritesNothingOutside() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Path outside = Files.createDirectories(dir.resolve("outside"));
    String evil = repos.commitRawTree("evil", "pwn", GitRepos.duplicateEntry(outside.toString()));
    String mainBefore = repos.tip("main");
    Path queues = dir.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\nqueue.app.build-command = true\n");
    Path data = dir.resolve("data");

    try (ServeNode node = ServeNode.start("sqlite:" + data.resolve("conveyor.db"), data, queues)) {
      String server = "127.0.0.1:" + node.port;
      Run land = cli("land", "--server", server, "--queue", "app", "--watch", changeUri("evil", evil));
      assertThat(land.exit()).as(land.out() + land.err()).isEqualTo(1);
      assertThat(land.out()).contains("app/1  ERROR");

      Run status = cli("status", "--server", server, "app/1");
      assertThat(status.out()).contains("app/1  ERROR").containsPattern("reason: invalid change: change "
          + Pattern.quote(changeUri("evil", evil)) + ": tree [0-9a-f]{40} is malformed: duplicateEntries");
    }
    assertThat(outside.resolve("pwned.txt")).doesNotExist();
    assertThat(outside).isEmptyDirectory();
    assertThat(repos.tip("main")).isEqualTo(mainBefore);
  }

  @Test
  void aBuildCannotReadServesSecretsAndItsOutputIsServedOnlyThroughTheBuildLog() throws Exception {
    String envSecret = "env-secret-" + UUID.randomUUID();
    String declaredSecret = "declared-secret-" + UUID.randomUUID();
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    String change = repos.commit("snoop", "main", "snoop", files("snoop.txt", "x\n"));
    Path data = dir.resolve("data");
    Path toolchain = Files.createDirectories(dir.resolve("toolchain"));
    Files.writeString(toolchain.resolve("VERSION"), "toolchain-21\n");
    try (ServerSocket outsideService = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Path queues = dir.resolve("queues.properties");
      Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\n"
          + "queue.app.build-command = echo \"env=[$CONVEYOR_TEST_SECRET]\"; echo \"declared=[$DECLARED]\";"
          + " cat ../../local-token; echo \"relative-exit=$?\"; cat " + data.resolve("local-token") + ";"
          + " echo \"absolute-exit=$?\"; cat " + toolchain.resolve("VERSION") + ";"
          + " (exec 3<>/dev/tcp/127.0.0.1/" + outsideService.getLocalPort() + ") && echo NET-OPEN || echo NET-CLOSED;"
          + " for e in /proc/[0-9]*/environ; do tr '\\\\0' ' ' < $e; echo; done; echo ENVIRON-READ;"
          + " exit 7\n"
          + "queue.app.build-env.DECLARED = ${env:CONVEYOR_DECLARED_SECRET}\n"
          + "queue.app.build-read-only-paths = " + toolchain + "\n");

      try (ServeNode node = ServeNode.start(Map.of("CONVEYOR_TEST_SECRET", envSecret,
          "CONVEYOR_DECLARED_SECRET", declaredSecret), "sqlite:" + data.resolve("conveyor.db"), data, queues,
          "--auth", "local")) {
        String server = "127.0.0.1:" + node.port;
        String tokenFile = data.resolve("local-token").toString();
        String token = Files.readString(data.resolve("local-token")).strip();
        assertThat(token).isNotBlank();
        int http = httpPort(node);
        assertThat(node.jvm.printed()).anyMatch(l -> l.contains("builds of [app] run sandboxed in bubblewrap"));

        Run land = cli("land", "--server", server, "--token-file", tokenFile, "--queue", "app", "--watch",
            changeUri("snoop", change));
        assertThat(land.exit()).as(land.out() + land.err()).isEqualTo(1);

        Run status = cli("status", "--server", server, "--token-file", tokenFile, "app/1");
        Matcher build = Pattern.compile("build (\\S+) FAILED").matcher(status.out());
        assertThat(build.find()).as(status.out()).isTrue();
        String buildId = build.group(1);
        assertThat(status.out()).contains("app/1  ERROR", "the build command exited 7",
            "conveyor build log " + buildId);
        String statusJson = get(http, "/api/status");
        String page = get(http, "/");
        for (String shown : new String[] {status.out(), land.out(), statusJson, page}) {
          assertThat(shown).doesNotContain(envSecret).doesNotContain(declaredSecret).doesNotContain(token)
              .doesNotContain("env=[").doesNotContain("toolchain-21");
        }
        assertThat(statusJson).contains("/api/builds/" + buildId + "/log");

        Run log = cli("build", "log", "--server", server, "--token-file", tokenFile, buildId);
        assertThat(log.exit()).as(log.err()).isZero();
        String httpLog = get(http, "/api/builds/" + buildId + "/log");
        for (String shown : new String[] {log.out(), httpLog}) {
          assertThat(shown).as("the build ran and its log is served").contains("env=[]", "declared=[***]",
              "toolchain-21", "NET-CLOSED", "ENVIRON-READ")
              .contains("relative-exit=1", "absolute-exit=1").contains("No such file or directory")
              .doesNotContain(envSecret).doesNotContain(declaredSecret).doesNotContain(token);
        }

        Run noToken = cli("build", "log", "--server", server, "--token-file", dir.resolve("none").toString(), buildId);
        assertThat(noToken.exit()).isEqualTo(1);
        assertThat(noToken.err()).contains("UNAUTHENTICATED");
        Run unknown = cli("build", "log", "--server", server, "--token-file", tokenFile, "no-such-build");
        assertThat(unknown.err()).contains("no build 'no-such-build'");
      }
    }
  }

  private static int httpPort(ServeNode node) {
    Pattern page = Pattern.compile(".*status page http://[^:]+:(\\d+)/.*");
    await().atMost(Duration.ofSeconds(30)).until(() -> node.jvm.printed().stream().anyMatch(l -> page.matcher(l)
        .matches()));
    Matcher m = page.matcher(node.jvm.printed().stream().filter(l -> page.matcher(l).matches()).findFirst()
        .orElseThrow());
    assertThat(m.matches()).isTrue();
    return Integer.parseInt(m.group(1));
  }

  private static String get(int port, String path) throws IOException, InterruptedException {
    HttpResponse<String> r = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
        URI.create("http://127.0.0.1:" + port + path)).build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(path + ": " + r.body()).isEqualTo(200);
    return r.body();
  }
}
