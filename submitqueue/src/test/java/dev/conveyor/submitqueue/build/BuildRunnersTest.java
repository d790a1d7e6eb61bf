package dev.conveyor.submitqueue.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.submitqueue.config.BuildIsolation;
import dev.conveyor.submitqueue.config.BuildIsolation.Sandbox;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The local runners against the real bubblewrap (Debian's bubblewrap must be installed, as .ci/run
 * does): what a build can see, reach and keep running.
 */
class BuildRunnersTest {

  @org.junit.jupiter.api.BeforeAll
  static void needsBubblewrap() {
    dev.conveyor.ledger.testing.HostTools.assumeUsable("bubblewrap",
        dev.conveyor.submitqueue.build.BuildRunners.bubblewrapUnavailable(), "CONVEYOR_REQUIRE_BWRAP",
        "apt-get install bubblewrap");
  }

  @TempDir Path tmp;
  Path data;
  Path tree;
  Path scratch;

  @BeforeEach
  void dirs() throws IOException {
    data = Files.createDirectories(tmp.resolve("data"));
    Files.writeString(data.resolve("local-token"), "the-token\n");
    tree = Files.createDirectories(data.resolve("builds").resolve("job-1"));
    scratch = Files.createDirectories(data.resolve("builds").resolve("job-1.home"));
    Files.writeString(tree.resolve("in-tree.txt"), "mine\n");
  }

  private static SubmitQueueConfig queue(BuildIsolation isolation) {
    return SubmitQueueConfig.of(QueueConfig.of("app", "/srv/git/app.git", "main", Strategy.REBASE), "true", 1)
        .withIsolation(isolation);
  }

  private static BuildIsolation isolation(Sandbox sandbox, boolean network, List<Path> readOnly) {
    return new BuildIsolation(sandbox, network, readOnly, Map.of("DECLARED", "yes"), Set.of());
  }

  private record Result(int exit, String out) {}

  private Result run(BuildRunner runner, String command) throws Exception {
    Process p = runner.start(command, tree, scratch);
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    return new Result(p.exitValue(), out);
  }

  private BuildRunner bwrap(boolean network, List<Path> readOnly) {
    BuildRunner r = BuildRunners.detect(data).forQueue(queue(isolation(Sandbox.BWRAP, network, readOnly)));
    assertThat(r).as("bubblewrap must be installed and usable (apt-get install bubblewrap)").isInstanceOf(BwrapRunner.class);
    return r;
  }

  @Test
  void aSandboxedBuildSeesOnlyItsTreeTheSystemAndItsDeclaredEnvironment() throws Exception {
    Result r = run(bwrap(false, List.of()), "pwd; env | sort; cat ../../local-token || echo NO-TOKEN;"
        + " cat " + data.resolve("local-token") + " || echo NO-TOKEN-ABS; ls " + data + " || echo NO-DATA;"
        + " cat in-tree.txt; echo out > written.txt; touch /usr/x || echo USR-RO;"
        + " echo \"pid1-environ=[$(tr '\\0' ' ' < /proc/1/environ)]\"; ls /proc | grep -c '^[0-9]'");

    assertThat(r.exit()).as(r.out()).isZero();
    assertThat(r.out()).startsWith("/build\n").contains("DECLARED=yes", "HOME=/tmp/home", "LANG=C.UTF-8",
        "PATH=" + BuildRunner.DEFAULT_PATH).contains("NO-TOKEN\n", "NO-TOKEN-ABS\n", "NO-DATA\n", "mine\n", "USR-RO\n")
        .contains("pid1-environ=[]").doesNotContain("the-token").doesNotContain("JAVA_HOME").doesNotContain("MAVEN");
    assertThat(r.out().lines().filter(l -> l.matches("[A-Z_]+=.*")).map(l -> l.substring(0, l.indexOf('='))))
        .containsExactlyInAnyOrder("DECLARED", "HOME", "LANG", "PATH", "PWD", "SHLVL", "_");
    assertThat(Files.readString(tree.resolve("written.txt"))).isEqualTo("out\n");
    assertThat(Integer.parseInt(r.out().strip().lines().reduce((a, b) -> b).orElseThrow()))
        .as("only the sandbox's own few processes are visible").isLessThan(6);
  }

  @Test
  void theNetworkIsOffUnlessTheQueueAllowsIt() throws Exception {
    try (ServerSocket server = new ServerSocket(0, 10, InetAddress.getLoopbackAddress())) {
      Thread acceptor = new Thread(() -> {
        while (!server.isClosed()) {
          try {
            server.accept().close();
          } catch (IOException e) {
            return;
          }
        }
      });
      acceptor.setDaemon(true);
      acceptor.start();
      String dial = "(exec 3<>/dev/tcp/127.0.0.1/" + server.getLocalPort() + ") && echo CONNECTED || echo REFUSED";

      assertThat(run(bwrap(false, List.of()), dial).out()).contains("REFUSED").doesNotContain("CONNECTED");
      assertThat(run(bwrap(true, List.of()), dial).out()).contains("CONNECTED");
    }
  }

  @Test
  void readOnlyPathsAreReadableAndNotWritable() throws Exception {
    Path toolchain = Files.createDirectories(tmp.resolve("toolchain"));
    Files.writeString(toolchain.resolve("VERSION"), "21.0.1\n");

    Result r = run(bwrap(false, List.of(toolchain)), "cat " + toolchain.resolve("VERSION")
        + "; touch " + toolchain.resolve("new") + " || echo READ-ONLY; ls " + tmp + "");

    assertThat(r.out()).contains("21.0.1", "READ-ONLY").doesNotContain("data");
    assertThat(toolchain.resolve("new")).doesNotExist();
    assertThat(run(bwrap(false, List.of()), "cat " + toolchain.resolve("VERSION") + " || echo HIDDEN").out())
        .contains("HIDDEN");
  }

  @Test
  void aConfigurationThatWouldExposeTheDataDirectoryOrNeedsAMissingSandboxIsRefused() {
    BuildRunners runners = BuildRunners.detect(data);
    assertThatThrownBy(() -> runners.check(SubmitQueues.of(queue(isolation(Sandbox.AUTO, false, List.of(tmp))))))
        .hasMessageContaining("queue.app.build-read-only-paths").hasMessageContaining("contains the data directory");
    assertThatThrownBy(() -> runners.check(SubmitQueues.of(queue(isolation(Sandbox.AUTO, false,
        List.of(data.resolve("builds")))))))
        .hasMessageContaining("is inside the data directory");
    assertThatThrownBy(() -> runners.check(SubmitQueues.of(queue(isolation(Sandbox.AUTO, false,
        List.of(tmp.resolve("missing")))))))
        .hasMessageContaining("does not exist");
    assertThatThrownBy(() -> BuildRunners.withoutBwrap(data).check(SubmitQueues.of(queue(isolation(Sandbox.BWRAP,
        false, List.of()))))).hasMessageContaining("build-sandbox = bwrap");
    assertThat(BuildRunners.withoutBwrap(data).summary(SubmitQueues.of(queue(BuildIsolation.DEFAULT))))
        .anyMatch(l -> l.contains("NOT sandboxed"));
    assertThat(runners.summary(SubmitQueues.of(queue(BuildIsolation.DEFAULT))))
        .containsExactly("builds of [app] run sandboxed in bubblewrap (" + Path.of("/usr/bin/bwrap") + ")");
  }

  @Test
  void withoutBwrapABuildStillGetsOnlyTheDeclaredEnvironmentAndAFreshHome() throws Exception {
    BuildRunner plain = BuildRunners.withoutBwrap(data).forQueue(queue(isolation(Sandbox.AUTO, false, List.of())));
    assertThat(plain.sandboxed()).isFalse();

    Result r = run(plain, "env | sort; pwd");

    assertThat(r.out()).contains("DECLARED=yes", "HOME=" + scratch, tree.toString()).doesNotContain("JAVA_HOME");
    assertThat(r.out().lines().filter(l -> l.matches("[A-Z_]+=.*")).map(l -> l.substring(0, l.indexOf('='))))
        .containsExactlyInAnyOrder("DECLARED", "HOME", "LANG", "PATH", "PWD", "SHLVL", "_");
  }

  @Test
  void killingABuildTakesDownEverythingItStartedInTheSandbox() throws Exception {
    Process p = bwrap(false, List.of()).start("sleep 300 & sleep 300 & wait", tree, scratch);
    await().atMost(Duration.ofSeconds(30)).until(() -> p.descendants().filter(h -> h.info().command()
        .map(c -> c.endsWith("sleep")).orElse(false)).count() == 2);
    List<ProcessHandle> all = p.descendants().toList();

    BuildRun.kill(p);

    await().atMost(Duration.ofSeconds(30)).until(() -> !p.isAlive() && all.stream().noneMatch(ProcessHandle::isAlive));
  }
}
