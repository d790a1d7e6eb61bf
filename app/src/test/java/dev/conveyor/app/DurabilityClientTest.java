package dev.conveyor.app;

import static dev.conveyor.app.testing.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.testing.Cli.Run;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Durability service as users reach it through {@code serve}: the Node.js client's scenario (a step
 * killed between claim and complete, resumed by a new process) against a node with its local token, then
 * the {@code conveyor durability} commands reading what it left.
 */
class DurabilityClientTest {
  private static final Path CLIENT = Path.of("..", "clients", "node").toAbsolutePath().normalize();

  @TempDir Path dir;

  @Test
  void theNodeClientsScenarioPassesAndTheCliReadsWhatItLeft() throws Exception {
    boolean required = "1".equals(System.getenv("CONVEYOR_REQUIRE_NODE"));
    boolean ready = nodeRuns() && (Files.isDirectory(CLIENT.resolve("node_modules/@grpc/grpc-js")) || npmCi());
    if (!ready) {
      if (required) {
        throw new AssertionError("CONVEYOR_REQUIRE_NODE=1 but node or " + CLIENT + "/node_modules is missing;"
            + " and 'npm ci' there failed");
      }
      Assumptions.abort("node is missing, or npm ci in clients/node failed");
    }
    Path data = dir.resolve("data");
    var config = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30), null, 1);
    try (ControlPlane plane = ControlPlane.start(config)) {
      String server = "127.0.0.1:" + plane.port();
      String token = Files.readString(data.resolve("local-token")).strip();
      ProcessBuilder pb = new ProcessBuilder("node", "--test", "test/scenario.test.js").directory(CLIENT.toFile())
          .redirectErrorStream(true);
      pb.environment().put("CONVEYOR_ADDRESS", server);
      pb.environment().put("CONVEYOR_TOKEN", token);
      Process node = pb.start();
      byte[] out = node.getInputStream().readAllBytes();
      assertThat(node.waitFor(180, TimeUnit.SECONDS)).isTrue();
      String log = new String(out, StandardCharsets.UTF_8);
      assertThat(node.exitValue()).as(log).isZero();
      assertThat(log).contains("# pass 2", "# fail 0");

      String stream = plane.ledger().read(tx -> tx.queryOne("SELECT stream FROM durable_partitions WHERE stream"
          + " LIKE 'node-run-%'", rs -> rs.getString(1))).orElseThrow();
      long completedOnce = plane.ledger().read(tx -> tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = ?"
          + " AND effect_key = 'charge-card' AND state = 'COMPLETED' AND transitions = 1", "durable:" + stream));
      assertThat(completedOnce).isEqualTo(1);

      String tokenFile = data.resolve("local-token").toString();
      Run signals = run("durability", "signals", stream, "--partition", "step", "--server", server, "--token-file",
          tokenFile);
      assertThat(signals.exit()).as(signals.err()).isZero();
      assertThat(signals.out()).contains("1  ", stream + ":signal-1  progress 1", stream + ":signal-3  progress 3");
      Run json = run("durability", "signals", stream, "--partition", "step", "--after", "2", "--json", "--server",
          server, "--token-file", tokenFile);
      assertThat(json.out()).contains("\"sequence\":\"3\"").doesNotContain("\"sequence\":\"2\"")
          .contains("\"last_sequence\":\"3\"", "\"payload\":\"cHJvZ3Jlc3MgMw==\"");
      Run effects = run("durability", "effects", "--subject", stream, "--state", "completed", "--server", server,
          "--token-file", tokenFile);
      assertThat(effects.out()).contains("charge-card", "COMPLETED", "result charged once");
      Run held = run("durability", "effects", "--subject", stream, "--state", "held", "--server", server,
          "--token-file", tokenFile);
      assertThat(held.out()).contains("no effects of " + stream + " in state held");
      Run cursor = run("durability", "cursor", "step-runner", stream, "--partition", "step", "--server", server,
          "--token-file", tokenFile);
      assertThat(cursor.out()).contains("position 3", "epoch ", "held by resume-");
      Run summary = run("durability", "summary", stream, "--server", server, "--token-file", tokenFile);
      assertThat(summary.out()).contains("0 held, 1 completed", "effect charge-card  COMPLETED", "signal step#3");
      Run bad = run("durability", "effects", "--state", "gone", "--server", server, "--token-file", tokenFile);
      assertThat(bad.exit()).isNotZero();
      assertThat(bad.err()).contains("--state must be held, completed or released").doesNotContain("Exception");
      Run badStream = run("durability", "signals", "no space allowed", "--server", server, "--token-file", tokenFile);
      assertThat(badStream.err()).contains("stream must be").doesNotContain("Exception");

    }
  }

  /** Installs the client's locked dependencies from the npm registry, as its README says. */
  private static boolean npmCi() {
    try {
      Process p = new ProcessBuilder("npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
          .directory(CLIENT.toFile()).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      boolean ok = p.waitFor(300, TimeUnit.SECONDS) && p.exitValue() == 0;
      if (!ok) {
        System.err.println("npm ci in " + CLIENT + " failed:\n" + out);
      }
      return ok;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static boolean nodeRuns() {
    try {
      Process p = new ProcessBuilder("node", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException | InterruptedException e) {
      return false;
    }
  }
}
