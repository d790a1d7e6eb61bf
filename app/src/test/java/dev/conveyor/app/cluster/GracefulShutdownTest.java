package dev.conveyor.app.cluster;

import static dev.conveyor.app.cluster.MultiNodeTest.count;
import static dev.conveyor.app.cluster.MultiNodeTest.land;
import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SIGTERM on a node with a build in flight: the node stops leasing, gives the build its grace, kills
 * it, hands the job back without counting the attempt, releases its stream partitions and exits.
 * A restart on the same data directory resumes and lands the change.
 */
class GracefulShutdownTest {
  @TempDir Path dir;

  @Test
  void sigtermHandsBackInFlightWorkAndARestartResumesIt() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    String change = repos.commit("slow", "main", "slow change", files("slow.txt", "slow\n"));
    Path signals = Files.createDirectories(dir.resolve("signals")); // builds are sandboxed: they may read only this
    Path release = signals.resolve("release-builds");
    Path queues = dir.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = test -e " + release + " || sleep 120\n"
        + "queue.app.build-read-only-paths = " + signals + "\n");
    Path data = dir.resolve("data");
    String ledgerUrl = "sqlite:" + data.resolve("conveyor.db");

    String request;
    long pid;
    try (ServeNode node = ServeNode.start(ledgerUrl, data, queues, "--shutdown-grace", "1s")) {
      pid = node.pid();
      request = land(GatewayGrpc.newBlockingStub(node.channel), changeUri("slow", change));
      try (Ledger ledger = Ledger.open(ledgerUrl)) {
        await().atMost(Duration.ofMinutes(1)).until(() -> count(ledger,
            "SELECT COUNT(*) FROM jobs WHERE kind = 'BUILD' AND state = 'RUNNING' AND started_at IS NOT NULL") == 1);
      }
      assertThat(node.terminate(Duration.ofSeconds(60))).as("exit code after SIGTERM").isEqualTo(143);
      assertThat(node.jvm.printed()).anyMatch(l -> l.contains("shutting down")).anyMatch(l -> l.contains("stopped"));
    }

    try (Ledger ledger = Ledger.open(ledgerUrl)) {
      var build = ledger.transact(tx -> tx.queryOne("SELECT state, attempts, last_error FROM jobs WHERE kind = 'BUILD'",
          rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)})).orElseThrow();
      assertThat(build[0]).isEqualTo("QUEUED");
      assertThat(build[1]).as("a handed-back attempt is not counted").isEqualTo("0");
      assertThat(build[2]).contains("handed back by").contains("-" + pid);
      assertThat(count(ledger, "SELECT COUNT(*) FROM mq_group_partitions WHERE owner IS NOT NULL")).isZero();
      assertThat(count(ledger, "SELECT COUNT(*) FROM sq_requests WHERE state = 'LANDED'")).isZero();
    }

    Files.writeString(release, "");
    try (ServeNode again = ServeNode.start(ledgerUrl, data, queues);
        Ledger ledger = Ledger.open(ledgerUrl)) {
      await().atMost(Duration.ofMinutes(1)).until(() -> count(ledger,
          "SELECT COUNT(*) FROM sq_requests WHERE request_id = ? AND state = 'LANDED'", request) == 1);
      assertThat(repos.tip("main")).isEqualTo(change);
      assertThat(again.terminate(Duration.ofSeconds(60))).isEqualTo(143);
    }
  }
}
