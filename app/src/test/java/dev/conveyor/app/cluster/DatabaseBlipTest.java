package dev.conveyor.app.cluster;

import static dev.conveyor.app.cluster.MultiNodeTest.count;
import static dev.conveyor.app.cluster.MultiNodeTest.land;
import static dev.conveyor.app.cluster.MultiNodeTest.subjectsOnMain;
import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * Attack 3 of issue 14: a merge queue runs while every connection to its PostgreSQL database is
 * terminated by the server every 2 s (SQLState 57P01, what a restart or failover does). A real
 * {@code conveyor serve} lands 10 good changes through the gateway; every one must end LANDED and be on
 * main exactly once, no dead-letter topic may hold anything, and a change whose build fails must still
 * end ERROR with the build's reason (deterministic failures stay failures).
 */
class DatabaseBlipTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();
  @TempDir Path dir;

  @Test
  void aMergeQueueRunLandsEveryGoodChangeWhileEveryConnectionIsTerminatedEveryTwoSeconds() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Map<String, String> changes = new LinkedHashMap<>();
    for (int i = 1; i <= 10; i++) {
      changes.put("change " + i, repos.commit("c" + i, "main", "change " + i, files("f" + i + ".txt", i + "\n")));
    }
    String broken = repos.commit("broken", "main", "broken change", files("BROKEN", "x\n"));
    Path queues = dir.resolve("queues.properties");
    // 11 builds of 2 s, 4 at a time: the run outlasts several terminator rounds however fast the queue is
    // (a queue with instant builds finished before the second round)
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = sleep 2; test ! -e BROKEN\nqueue.app.build-budget = 4\n");

    ScheduledExecutorService terminator = Executors.newSingleThreadScheduledExecutor();
    AtomicInteger terminated = new AtomicInteger();
    AtomicInteger rounds = new AtomicInteger();
    try (ServeNode node = ServeNode.start(pg.url(), dir.resolve("data"), queues);
        Ledger ledger = Ledger.open(pg.url());
        Connection admin = DriverManager.getConnection("jdbc:postgresql://" + PostgresDatabase.HOST + ":"
            + PostgresDatabase.PORT + "/postgres", "postgres", "")) {
      // fault injection at the acceptance's own cadence; correctness is awaited below, never timed
      terminator.scheduleAtFixedRate(() -> terminated.addAndGet(terminateAll(admin, pg.name(), rounds)),
          0, 2, TimeUnit.SECONDS);

      var gateway = GatewayGrpc.newBlockingStub(node.channel);
      List<String> requests = new ArrayList<>();
      Map<String, String> subjectOf = new LinkedHashMap<>();
      for (var c : changes.entrySet()) {
        String id = land(gateway, changeUri("c" + c.getKey().substring(7), c.getValue()));
        requests.add(id);
        subjectOf.put(id, c.getKey());
      }
      String brokenRequest = land(gateway, changeUri("broken", broken));

      await().atMost(Duration.ofMinutes(6)).pollInterval(Duration.ofMillis(500)).until(() ->
          count(ledger, "SELECT COUNT(*) FROM sq_requests WHERE state IN ('LANDED', 'ERROR', 'CANCELLED')") == 11);
      int roundsDuringRun = rounds.get();
      terminator.shutdownNow();
      terminator.awaitTermination(30, TimeUnit.SECONDS);

      assertThat(roundsDuringRun).as("terminator rounds while the queue ran").isGreaterThanOrEqualTo(3);
      assertThat(terminated.get()).as("connections terminated by the server").isGreaterThan(0);
      Map<String, String[]> states = new LinkedHashMap<>();
      ledger.transact(tx -> tx.query("SELECT request_id, state, reason FROM sq_requests", rs -> {
        states.put(rs.getString(1), new String[] {rs.getString(2), rs.getString(3)});
        return null;
      }));
      for (String id : requests) {
        assertThat(states.get(id)[0]).as("%s (%s): %s", id, subjectOf.get(id), states.get(id)[1])
            .isEqualTo("LANDED");
      }
      assertThat(states.get(brokenRequest)[0]).isEqualTo("ERROR");
      assertThat(states.get(brokenRequest)[1]).contains("build command exited 1")
          .doesNotContain("gave up", "does not apply");

      List<String> subjects = subjectsOnMain(repos);
      for (String subject : changes.keySet()) {
        assertThat(subjects).as("'%s' on main exactly once", subject).containsOnlyOnce(subject);
      }
      assertThat(subjects).doesNotContain("broken change");
      assertThat(count(ledger, "SELECT COUNT(*) FROM mq_messages WHERE topic LIKE '%.dlq'"))
          .as("messages in any dead-letter topic").isZero();
    } finally {
      terminator.shutdownNow();
    }
  }

  /** The acceptance's terminator: every connection of the database but our own. */
  private static int terminateAll(Connection admin, String database, AtomicInteger rounds) {
    try (Statement s = admin.createStatement();
        ResultSet rs = s.executeQuery("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '"
            + database + "' AND pid <> pg_backend_pid()")) {
      int n = 0;
      while (rs.next()) {
        n += rs.getBoolean(1) ? 1 : 0;
      }
      rounds.incrementAndGet();
      return n;
    } catch (java.sql.SQLException e) {
      throw new IllegalStateException("the terminator failed", e);
    }
  }
}
