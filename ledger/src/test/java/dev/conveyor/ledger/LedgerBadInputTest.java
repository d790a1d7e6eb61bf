package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobProgress;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LedgerBadInputTest {
  @TempDir Path dir;

  @Test
  void unknownJobKindNamesTheValidKinds() {
    assertThatThrownBy(() -> JobKind.parse("COMPILE"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("unknown job kind 'COMPILE'")
        .hasMessageContaining("EXEC_FILE_GROUP");
    assertThat(JobKind.parse("exec_file_group")).isEqualTo(JobKind.EXEC_FILE_GROUP);
    assertThatThrownBy(() -> JobState.parse("DONE")).hasMessageContaining("unknown job state 'DONE'");
  }

  @Test
  void emptyIdsAreRefusedNamingTheField() {
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("l.db"))) {
      assertThatThrownBy(() -> ledger.jobs().get("")).hasMessageContaining("job_id must not be empty");
      assertThatThrownBy(() -> ledger.jobs().complete("x", " ", null))
          .hasMessageContaining("lease_epoch must not be empty");
      assertThatThrownBy(() -> ledger.jobs().get("nope")).isInstanceOf(JobNotFoundException.class)
          .hasMessageContaining("no job with id 'nope'");
      assertThatThrownBy(() -> LeaseRequest.of("", Set.of(), Duration.ofSeconds(1)))
          .hasMessageContaining("executor_id must not be empty");
      assertThatThrownBy(() -> ledger.jobs().recordResult("x", "e", "", new byte[0], new byte[0]))
          .hasMessageContaining("result_id must not be empty");
      assertThatThrownBy(() -> JobSpec.builder(JobKind.BUILD).lane("").build())
          .hasMessageContaining("lane must not be empty");
      assertThatThrownBy(() -> JobSpec.builder(JobKind.BUILD).maxAttempts(0).build())
          .hasMessageContaining("max_attempts must be at least 1");
    }
  }

  @Test
  void negativeCountersAreRefusedNamingTheCounter() {
    assertThatThrownBy(() -> new JobProgress(-1, 0, 0, 0, null))
        .hasMessageContaining("progress.done must not be negative");
    assertThatThrownBy(() -> new JobProgress(0, 0, 0, -5, null))
        .hasMessageContaining("progress.bytes must not be negative");
  }

  @Test
  void unreadableLedgerUrlsAreExplained() {
    assertThatThrownBy(() -> Ledger.open("mysql://db/x"))
        .isInstanceOf(LedgerException.class)
        .hasMessageContaining("unsupported ledger URL 'mysql://db/x'")
        .hasMessageContaining("sqlite:");
    assertThatThrownBy(() -> Ledger.open("postgresql://user:secret@/"))
        .isInstanceOf(LedgerException.class)
        .hasMessageNotContaining("secret");
    assertThatThrownBy(() -> Ledger.open("postgresql://localhost"))
        .hasMessageContaining("names no database");
    assertThatThrownBy(() -> Ledger.open("sqlite:"))
        .hasMessageContaining("names no file");
    assertThatThrownBy(() -> Ledger.open("sqlite:" + dir))
        .hasMessageContaining("is a directory");
  }

  @Test
  void unreachablePostgresIsOneClearLine() {
    assertThatThrownBy(() -> Ledger.open("postgresql://postgres@127.0.0.1:1/nothing?connectTimeout=2"))
        .isInstanceOf(LedgerException.class)
        .hasMessageStartingWith("cannot open ledger postgresql://postgres@127.0.0.1:1/nothing");
  }

  @Test
  void corruptSqliteFileIsNamedAndLeftUntouched() throws Exception {
    Path file = dir.resolve("corrupt.db");
    byte[] garbage = "this is not a database, just some text that is long enough to look like a header"
        .repeat(100).getBytes(StandardCharsets.UTF_8);
    Files.write(file, garbage);
    assertThatThrownBy(() -> Ledger.open("sqlite:" + file))
        .isInstanceOf(LedgerException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("not a SQLite database");
    assertThat(Files.readAllBytes(file)).isEqualTo(garbage);
  }

  @Test
  void aRefusedFanOutWritesNothing() {
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("l.db"))) {
      String root = ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).build()).jobId();
      LeaseGrant g = ledger.jobs()
          .leaseOne(LeaseRequest.of("w", Set.of(JobKind.PLAN_TABLE), Duration.ofSeconds(30))).orElseThrow();
      ledger.jobs().cancel(root, "stop");
      assertThatThrownBy(() -> ledger.jobs().fanOut(root, g.epoch(),
          List.of(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build(), JobSpec.builder(JobKind.PLAN_SNAPSHOT).build())))
          .isInstanceOf(InvalidJobStateException.class);
      assertThat(ledger.jobs().children(root)).isEmpty();
      assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.CANCELLING);
    }
  }

  @Test
  void nestedTransactionsAreRefused() {
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("l.db"))) {
      assertThatThrownBy(() -> ledger.transact(tx -> ledger.transact(inner -> 1)))
          .isInstanceOf(IllegalStateException.class).hasMessageContaining("nested");
    }
  }
}
