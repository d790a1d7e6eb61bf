package dev.conveyor.app.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.Main;
import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code conveyor worker build --data-dir D} keeps private source code in D (its git cache, build
 * trees): D and those directories are owner-only, as serve's are, from before the first build.
 */
class BuildWorkerDataDirectoryTest {
  @TempDir Path dir;

  @Test
  void aBuildWorkersDataDirectoryIsOwnerOnly() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Path queues = dir.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\nqueue.app.build-command = true\n");
    Path data = dir.resolve("builder-1");
    String ledgerUrl = "sqlite:" + dir.resolve("ledger").resolve("conveyor.db");
    // a worker never creates the ledger: without one it says so and stops, making nothing
    java.io.PrintStream original = System.err;
    java.io.ByteArrayOutputStream err = new java.io.ByteArrayOutputStream();
    System.setErr(new java.io.PrintStream(err, true, java.nio.charset.StandardCharsets.UTF_8));
    int exit;
    try {
      exit = Main.run("worker", "build", "--data-dir", data.toString(), "--queues", queues.toString(),
          "--ledger", ledgerUrl);
    } finally {
      System.setErr(original);
    }
    assertThat(exit).isNotZero();
    assertThat(err.toString(java.nio.charset.StandardCharsets.UTF_8)).contains("error: no ledger at",
        "hint: run this where 'conveyor serve' keeps its data, or pass --ledger URL");
    assertThat(dir.resolve("ledger")).doesNotExist();
    assertThat(data).doesNotExist();

    dev.conveyor.ledger.Ledger.open(ledgerUrl).close(); // what serve does first
    try (ChildJvm worker = ChildJvm.start(Main.class, "worker", "build", "--data-dir", data.toString(),
        "--queues", queues.toString(), "--ledger", ledgerUrl)) {
      worker.awaitLine(l -> l.startsWith("conveyor: build worker "), Duration.ofSeconds(90));
      for (Path p : new Path[] {data, data.resolve("builds"), data.resolve("build-cache")}) {
        assertThat(p).as(p.toString()).isDirectory();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(p))).as(p.toString())
            .isEqualTo("rwx------");
      }
    }
  }
}
