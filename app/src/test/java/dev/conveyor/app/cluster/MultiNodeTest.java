package dev.conveyor.app.cluster;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.revwalk.RevCommit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Scale-out as the README describes it: two {@code conveyor serve} nodes share one PostgreSQL
 * ledger. Changes are landed and a table captured through one node, which is then SIGKILLed with
 * builds in flight. The survivor must finish everything: every request ends as its change deserves,
 * each landed change is on the target exactly once, and the capture's statistics are complete and
 * recorded once. Then the survivor is stopped with SIGTERM and must leave no lease behind.
 */
class MultiNodeTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();
  @TempDir Path dir;

  @Test
  void requestsLandAndCapturesFinishWhileANodeIsKilled() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Map<String, String> changes = new LinkedHashMap<>();
    for (int i = 1; i <= 5; i++) {
      changes.put("change " + i, repos.commit("c" + i, "main", "change " + i, files("f" + i + ".txt", i + "\n")));
    }
    String broken = repos.commit("broken", "main", "broken change", files("BROKEN", "x\n"));
    Path queues = dir.resolve("queues.properties");
    // long enough that builds are in flight when the node dies
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = sleep 2 && test ! -e BROKEN\nqueue.app.build-budget = 4\n");
    Path table = dir.resolve("orders");
    SampleTable.write(table, 8, 2_000);

    try (ServeNode a = ServeNode.start(pg.url(), dir.resolve("a"), queues, "--max-files-per-group", "1",
            "--capture-parallelism", "1");
        ServeNode b = ServeNode.start(pg.url(), dir.resolve("b"), queues, "--max-files-per-group", "1",
            "--capture-parallelism", "1", "--shutdown-grace", "5s");
        Ledger ledger = Ledger.open(pg.url())) {
      var gateway = GatewayGrpc.newBlockingStub(a.channel);
      List<String> requests = new ArrayList<>();
      Map<String, String> subjectOf = new LinkedHashMap<>();
      for (var c : changes.entrySet()) {
        String id = land(gateway, changeUri("c" + c.getKey().substring(7), c.getValue()));
        requests.add(id);
        subjectOf.put(id, c.getKey());
      }
      String brokenRequest = land(gateway, changeUri("broken", broken));
      var control = ReconcileControlGrpc.newBlockingStub(a.channel);
      control.registerTable(RegisterTableRequest.newBuilder().setTableId("shop.orders").setConnector(
          ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(table.toString())).build());
      String capture = control.startCapture(StartCaptureRequest.newBuilder().setTableId("shop.orders").build())
          .getJobId();

      // kill node a while it holds at least one build
      await().atMost(Duration.ofMinutes(1)).until(() -> count(ledger, "SELECT COUNT(*) FROM jobs WHERE kind = 'BUILD'"
          + " AND state = 'RUNNING' AND lease_owner LIKE ?", "%" + a.leaseOwnerFragment() + "%") > 0);
      a.kill();

      await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofMillis(500)).until(() ->
          count(ledger, "SELECT COUNT(*) FROM sq_requests WHERE state IN ('LANDED', 'ERROR', 'CANCELLED')") == 6
              && ledger.jobs().get(capture).state().isTerminal());

      Map<String, String> states = new LinkedHashMap<>();
      ledger.transact(tx -> tx.query("SELECT request_id, state FROM sq_requests", rs -> {
        states.put(rs.getString(1), rs.getString(2));
        return null;
      }));
      for (String id : requests) {
        assertThat(states.get(id)).as(id).isEqualTo("LANDED");
      }
      assertThat(states.get(brokenRequest)).isEqualTo("ERROR");
      List<String> subjects = subjectsOnMain(repos);
      for (String subject : changes.keySet()) {
        assertThat(subjects).as("'%s' on main exactly once", subject).containsOnlyOnce(subject);
      }
      assertThat(subjects).doesNotContain("broken change");

      assertThat(ledger.jobs().get(capture).state().name()).isEqualTo("SUCCEEDED");
      assertThat(count(ledger, "SELECT COUNT(*) FROM capture_stats WHERE table_id = ? AND target_key LIKE 'file:%'",
          "shop.orders")).isEqualTo(8);
      assertThat(count(ledger, "SELECT COUNT(*) FROM capture_snapshots WHERE table_id = ?", "shop.orders"))
          .isEqualTo(1);
      assertThat(count(ledger, "SELECT COUNT(*) FROM jobs WHERE root_id = ? AND kind = 'EXEC_FILE_GROUP'"
          + " AND state = 'SUCCEEDED'", capture)).isEqualTo(8);

      // the survivor stops cleanly: nothing leased, no partition held
      assertThat(b.terminate(Duration.ofSeconds(60))).isEqualTo(143);
      assertThat(b.jvm.printed()).anyMatch(l -> l.contains("conveyor: stopped"));
      assertThat(count(ledger, "SELECT COUNT(*) FROM jobs WHERE state IN ('RUNNING', 'CANCELLING')"
          + " AND lease_owner LIKE ?", "%" + b.leaseOwnerFragment() + "%")).isZero();
      assertThat(count(ledger, "SELECT COUNT(*) FROM mq_group_partitions WHERE owner LIKE ?",
          "%" + b.leaseOwnerFragment() + "%")).isZero();
    }
  }

  static String land(GatewayGrpc.GatewayBlockingStub gateway, String uri) {
    return gateway.land(LandRequest.newBuilder().setQueue("app").setChange(Change.newBuilder().addUris(uri)).build())
        .getRequestId();
  }

  static long count(Ledger ledger, String sql, Object... args) {
    return ledger.transact(tx -> tx.queryLong(sql, args));
  }

  static List<String> subjectsOnMain(GitRepos repos) throws Exception {
    List<String> subjects = new ArrayList<>();
    try (Git git = Git.open(repos.origin().toFile())) {
      for (RevCommit c : git.log().add(git.getRepository().resolve("refs/heads/main")).call()) {
        subjects.add(c.getShortMessage());
      }
    }
    return subjects;
  }
}
