package dev.conveyor.app.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.testing.Cli;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.maintenance.Maintenance;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor admin retention} and {@code admin vacuum} through the CLI, on a node's SQLite data directory. */
class AdminCommandTest {
  @TempDir Path data;

  @BeforeEach
  void aNodeWithAFinishedJob() throws Exception {
    // jobs are due a millisecond after they finish; the rest keeps its defaults
    Files.writeString(data.resolve("conveyor.properties"), "retention.jobs = 1ms\n");
    try (Ledger ledger = Ledger.open("sqlite:" + data.resolve("conveyor.db"))) {
      String id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
      var g = ledger.jobs().leaseOne(LeaseRequest.of("w", Set.of(JobKind.BUILD), Duration.ofSeconds(30)))
          .orElseThrow();
      ledger.jobs().complete(id, g.epoch(), new Completion.Succeeded(null));
    }
  }

  private long jobs() {
    try (Ledger ledger = Ledger.open("sqlite:" + data.resolve("conveyor.db"))) {
      return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs"));
    }
  }

  @Test
  void aDryRunShowsWhatIsDueWithTheAgesInForceAndDeletesNothing() {
    Cli.Run run = Cli.run("admin", "retention", "--dry-run", "--data-dir", data.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("due for deletion at").contains("TASK").contains("DUE")
        .containsPattern("jobs +1ms +jobs +1\\b").containsPattern("requests +30d +sq_requests +0")
        .containsPattern("dead-letters +30d +mq_messages +0");
    assertThat(jobs()).isEqualTo(1);
  }

  @Test
  void aRunDeletesWhatIsDueAndSaysSo() {
    Cli.Run run = Cli.run("admin", "retention", "--data-dir", data.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("deleted at").containsPattern("jobs +1ms +jobs +1\\b").contains("total: 1 rows");
    assertThat(jobs()).isZero();
  }

  @Test
  void aRunRefusesWhileANodeLeadsMaintenance() {
    try (Ledger ledger = Ledger.open("sqlite:" + data.resolve("conveyor.db"))) {
      new Maintenance(ledger, "serve-elsewhere", List.of(), Maintenance.Options.defaults(), Maintenance.Observer.NONE)
          .lead();
      Cli.Run run = Cli.run("admin", "retention", "--data-dir", data.toString());
      assertThat(run.exit()).isNotZero();
      assertThat(run.err()).contains("maintenance is led by serve-elsewhere").contains("--dry-run");
    }
    assertThat(jobs()).isEqualTo(1);
  }

  @Test
  void aClaimAgeShorterThanWhatCouldRepeatItsEffectIsRefusedNamingTheKeys() throws Exception {
    Files.writeString(data.resolve("conveyor.properties"), "retention.effect-claims = 1d\n");
    Cli.Run run = Cli.run("admin", "retention", "--dry-run", "--data-dir", data.toString());
    assertThat(run.exit()).isNotZero();
    assertThat(run.err()).contains("retention.effect-claims = 1d is shorter than retention.messages = 7d");
    Files.writeString(data.resolve("conveyor.properties"), "retention.jobs = a week\n");
    run = Cli.run("admin", "retention", "--dry-run", "--data-dir", data.toString());
    assertThat(run.err()).contains("retention.jobs = 'a week' is not valid").contains("forever");
  }

  @Test
  void vacuumRewritesTheSqliteFileAndReportsItsSize() {
    Cli.Run run = Cli.run("admin", "vacuum", "--data-dir", data.toString());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("(whole file)").contains("vacuumed ledger sqlite:");
  }

  @Test
  void theHelpSaysWhatEachVerbDoes() {
    assertThat(Cli.run("admin", "--help").out()).contains("retention").contains("vacuum");
    assertThat(Cli.run("admin", "retention", "--help").out()).contains("--dry-run").contains("retention.batch-size")
        .contains("Never deleted");
    assertThat(Cli.run("admin", "vacuum", "--help").out()).contains("VACUUM (ANALYZE)").contains("SQLite: VACUUM");
  }
}
