package dev.conveyor.app;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.JobState;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  @TempDir Path dir;
  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();
  private PrintStream originalOut;
  private PrintStream originalErr;
  private String url;

  @BeforeEach
  void capture() {
    url = "sqlite:" + dir.resolve("cli.db");
    originalOut = System.out;
    originalErr = System.err;
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @AfterEach
  void restore() {
    System.setOut(originalOut);
    System.setErr(originalErr);
  }

  private static com.fasterxml.jackson.databind.JsonNode readJson(com.fasterxml.jackson.databind.ObjectMapper m,
      String text) {
    try {
      return m.readTree(text);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError("not JSON: " + text, e);
    }
  }

  private String stdout() {
    return out.toString(StandardCharsets.UTF_8);
  }

  private String stderr() {
    return err.toString(StandardCharsets.UTF_8);
  }

  @Test
  void listShowAndCancelAJob() {
    String id;
    try (Ledger ledger = Ledger.open(url)) {
      id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    }
    assertThat(Main.run("jobs", "list", "--ledger", url)).isZero();
    assertThat(stdout()).contains(id).contains("BUILD").contains("QUEUED");

    assertThat(Main.run("jobs", "show", id, "--ledger", url)).isZero();
    assertThat(stdout()).contains("attempts").contains("0 of 5");

    out.reset();
    assertThat(Main.run("jobs", "list", "--json", "--ledger", url)).isZero();
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    var listed = readJson(mapper, stdout());
    assertThat(listed.get("jobs").get(0).get("id").asText()).isEqualTo(id);
    assertThat(listed.get("jobs").get(0).get("state").asText()).isEqualTo("QUEUED");
    out.reset();
    assertThat(Main.run("jobs", "show", id, "--json", "--ledger", url)).isZero();
    var shown = readJson(mapper, stdout());
    assertThat(shown.get("max_attempts").asInt()).isEqualTo(5);
    assertThat(shown.get("progress").get("done").asLong()).isZero();
    assertThat(shown.get("children").isArray()).isTrue();

    assertThat(Main.run("jobs", "cancel", id, "--ledger", url, "--reason", "no longer needed")).isZero();
    assertThat(stdout()).contains(id + " is now CANCELLED");
    try (Ledger ledger = Ledger.open(url)) {
      assertThat(ledger.jobs().get(id).state()).isEqualTo(JobState.CANCELLED);
      assertThat(ledger.jobs().get(id).lastError()).isEqualTo("no longer needed");
    }
  }

  @Test
  void errorsAreOneLineWithAHintAndNoStackTrace() {
    // a read never makes a ledger: with none there it says so, and leaves none behind
    assertThat(Main.run("jobs", "list", "--ledger", url)).isEqualTo(1);
    assertThat(stderr()).startsWith("error: no ledger at ").doesNotContain("Exception");
    assertThat(java.nio.file.Files.exists(java.nio.file.Path.of(url.substring("sqlite:".length())))).isFalse();
    err.reset();
    Ledger.open(url).close();
    assertThat(Main.run("jobs", "show", "missing", "--ledger", url)).isEqualTo(1);
    assertThat(stderr()).startsWith("error: no job with id 'missing'").contains("hint: ").doesNotContain("\tat ");

    err.reset();
    assertThat(Main.run("jobs", "list", "--kind", "COMPILE", "--ledger", url)).isEqualTo(2);
    assertThat(stderr()).contains("unknown job kind 'COMPILE'").doesNotContain("Exception");

    err.reset();
    assertThat(Main.run("jobs", "list", "--bogus")).isEqualTo(2);
    assertThat(stderr()).contains("Unknown option: '--bogus'").contains("conveyor jobs list --help");
  }

  @Test
  void demoRunsToASucceededTree() {
    assertThat(Main.run("demo", "--groups", "3", "--lease-ms", "400", "--ledger", url, "--data-dir",
        dir.resolve("data").toString(), "--http-port", "0", "--exit")).isZero();
    assertThat(stdout()).contains("ended SUCCEEDED").contains("reclaimed").contains("EXEC_FILE_GROUP")
        .contains("job events delivered to the audit consumer")
        .contains("Captured statistics of demo.orders").contains("6 files, 30000 rows").contains("decimal(12,2)");
    String queue = stdout().substring(stdout().indexOf("Merge queue summary"));
    assertThat(queue.lines().filter(l -> l.contains("LANDED")).count()).isEqualTo(3);
    assertThat(queue).containsPattern("docs +LANDED").containsPattern("broken +ERROR +build failed")
        .containsPattern("retries \\(2 commits\\) +LANDED").contains("conflicting paths: src/app.txt");
    assertThat(stdout()).containsPattern("Status page: http://127.0.0.1:\\d+/").contains("[####################] 5/5");
  }

  @Test
  void aCallNamingOneCommandBuildsOnlyThatCommandAndUsageStillListsThemAll() {
    assertThat(Main.run("--help")).isZero();
    assertThat(stdout()).contains("serve").contains("land").contains("status").contains("admin")
        .doesNotContain("startup-training");
    out.reset();
    assertThat(Main.run(new String[0])).as("a bare call prints the usage with its commands").isZero();
    assertThat(stdout()).contains("Commands:").contains("serve").contains("land");
    assertThat(Main.run("help", "list")).isZero();
    assertThat(stdout()).contains("Usage: conveyor list");
    out.reset();
    assertThat(Main.run("help", "capture", "add-table")).isZero();
    assertThat(stdout()).as("a subcommand's own help, not its parent's").contains("Usage: conveyor capture add-table");
    assertThat(Main.run("lst")).isNotZero();
    assertThat(stderr()).contains("'lst'").doesNotContain("Exception");
  }

  @Test
  void objectStoreOptionsOnALocalTableAreRefusedBeforeAnythingIsSent() {
    assertThat(Main.run("capture", "add-table", "sales", "/data/sales", "--s3-endpoint", "http://127.0.0.1:9000",
        "--server", "127.0.0.1:1")).isNotZero();
    assertThat(stderr()).contains("/data/sales is a local path").contains("hint: give an s3:// LOCATION")
        .doesNotContain("Exception");
    assertThat(Main.run("capture", "add-table", "sales", "s3://lake/sales", "--warehouse", "w",
        "--server", "127.0.0.1:1")).isNotZero();
    assertThat(stderr()).contains("--warehouse needs --rest-catalog");
  }

  @Test
  void startupTrainingRunsListAndStatusAgainstALoopbackGateway() {
    // the launcher's class-data archive is made by this call; a failure would leave short commands slow
    assertThat(Main.run("startup-training")).isZero();
    assertThat(stderr()).isEmpty();
  }
}
