package dev.conveyor.app.cluster;

import dev.conveyor.app.testing.Cli;
import dev.conveyor.app.testing.Cli.Run;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.LocalOidcIssuer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real {@code conveyor serve} bound to 127.0.0.2 (any address but 127.0.0.1): its in-process capture
 * worker dials the bound address and captures a table end to end through the CLI, with the local
 * token and in OIDC mode; the data directory, ledger and token are its owner's only.
 */
class ServeBindTest {
  private static final String BIND = "127.0.0.2";
  @TempDir Path dir;

  private static Run cli(String... args) {
    return Cli.run(args);
  }

  private Path table(String name) throws Exception {
    Path table = Files.createDirectories(dir.resolve(name));
    for (int i = 0; i < 3; i++) {
      ParquetFileStatsTest.write(table.resolve("part-" + i + ".parquet"), 50 + i, i);
    }
    return table;
  }

  /** Registers and captures {@code table} through the CLI; answers the capture's root job id once it SUCCEEDED. */
  private static String capture(String server, Path tokenFile, Path table) {
    Run added = cli("capture", "add-table", "sales", table.toString(), "--server", server, "--token-file",
        tokenFile.toString());
    assertThat(added.out()).as(added.err()).contains("registered sales");
    Run started = cli("capture", "start", "sales", "--server", server, "--token-file", tokenFile.toString());
    assertThat(started.exit()).as(started.err()).isZero();
    String jobId = started.out().replaceAll("(?s).*job (\\S+).*", "$1").trim();
    await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(300)).until(() ->
        cli("capture", "jobs", "--state", "SUCCEEDED", "--server", server, "--token-file", tokenFile.toString())
            .out().contains(jobId));
    return jobId;
  }

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void aServeBoundTo127002CapturesWithItsInProcessWorkerAndKeepsItsDataDirectoryPrivate() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"),
        PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x")); // as an older serve left it
    Path table = table("sales");
    try (ServeNode node = ServeNode.launch(BIND, List.of("--data-dir", data.toString(), "--bind", BIND,
        "--grpc-port", "0", "--http-port", "-1", "--auth", "local"))) {
      assertThat(node.jvm.awaitLine(l -> l.contains("capture worker"), Duration.ofSeconds(10)))
          .contains("in-process capture worker on (dials " + BIND + ":" + node.port + ")");
      String jobId = capture(BIND + ":" + node.port, data.resolve("local-token"), table);
      assertThat(cli("capture", "status", jobId, "--server", BIND + ":" + node.port, "--token-file",
          data.resolve("local-token").toString()).out()).contains("EXEC_FILE_GROUP", "FINALIZE_SNAPSHOT");

      // while it runs (the WAL and shared-memory files exist) and after a capture wrote artifacts
      assertThat(mode(data)).isEqualTo("rwx------");
      for (String file : List.of("conveyor.db", "conveyor.db-wal", "conveyor.db-shm", "local-token")) {
        assertThat(mode(data.resolve(file))).as(file).isEqualTo("rw-------");
      }
      for (String sub : List.of("runway-cache", "build-cache", "builds", "artifacts")) {
        assertThat(mode(data.resolve(sub))).as(sub).isEqualTo("rwx------");
      }
      try (Stream<Path> entries = Files.list(data)) {
        assertThat(entries.toList()).allSatisfy(p -> assertThat(mode(p)).as(p.toString()).endsWith("------"));
      }
    }
  }

  @Test
  void anOidcServeRunsTheInProcessWorkerItsBannerPromisesAndCapturesWithIt() throws Exception {
    Path data = dir.resolve("data");
    Path table = table("sales");
    try (LocalOidcIssuer issuer = new LocalOidcIssuer();
        ServeNode node = ServeNode.launch(BIND, List.of("--data-dir", data.toString(), "--bind", BIND,
            "--grpc-port", "0", "--http-port", "-1", "--auth", "oidc", "--oidc-issuer", issuer.issuer()))) {
      assertThat(node.jvm.awaitLine(l -> l.contains("capture worker"), Duration.ofSeconds(10)))
          .contains("in-process capture worker on (dials " + BIND + ":" + node.port + ")");
      Path admin = Files.writeString(dir.resolve("admin-token"), issuer.mint(issuer.issuer(), "conveyor",
          Instant.now().plusSeconds(600), List.of(BearerAuthInterceptor.ADMIN_ROLE)));
      capture(BIND + ":" + node.port, admin, table);
      assertThat(Files.exists(data.resolve("local-token"))).isFalse(); // the worker's credential is in memory only
    }
  }
}
