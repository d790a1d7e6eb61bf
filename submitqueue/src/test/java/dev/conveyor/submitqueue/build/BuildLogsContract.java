package dev.conveyor.submitqueue.build;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Bounded build output on every backend: however much a build prints, the ledger keeps its head and
 * its tail in a bounded number of rows; a reader paging from 0 gets the head, one line saying how many
 * characters were dropped, then the tail; offsets count code points (an emoji is one).
 */
public abstract class BuildLogsContract extends LedgerTestBase {
  private static final LogLimits LIMITS = new LogLimits(100, 120);

  private String build() {
    return ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
  }

  private void store(String jobId, BuildOutput out, boolean last) {
    BuildOutput.Drained d = out.drain(last);
    ledger.transact(tx -> {
      BuildLogs.append(tx, jobId, d, LIMITS);
      return null;
    });
  }

  /** Reads the whole log as a client would: page after page until the end. */
  private String readAll(String jobId, int pageSize) {
    StringBuilder sb = new StringBuilder();
    long offset = 0;
    while (true) {
      long from = offset;
      BuildLogs.Page page = ledger.transact(tx -> BuildLogs.page(tx, jobId, from, pageSize)).orElseThrow();
      sb.append(page.text());
      offset = page.nextOffset();
      if (offset >= page.total()) {
        return sb.toString();
      }
      assertThat(offset).isGreaterThan(from); // every page moves on
    }
  }

  private static String codePoints(String s, int from, int to) {
    return s.substring(s.offsetByCodePoints(0, from), s.offsetByCodePoints(0, to));
  }

  @Test
  void keepsTheHeadAndTheTailAndSaysHowMuchWasDropped() {
    String job = build();
    BuildOutput out = new BuildOutput(List.of(), LIMITS);
    StringBuilder whole = new StringBuilder();
    for (int i = 0; i < 2_000; i++) {
      String line = "line " + i + " \uD83D\uDE80\n"; // a rocket: two chars, one code point
      out.append(line.toCharArray(), line.length());
      whole.append(line);
      if (i % 7 == 0) {
        store(job, out, false); // a heartbeat
      }
    }
    store(job, out, true);
    String all = whole.toString();
    int n = all.codePointCount(0, all.length());

    long rows = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_build_logs WHERE job_id = ?", job));
    assertThat(rows).as("rows kept for one build").isLessThanOrEqualTo(4);
    long stored = ledger.transact(tx -> tx.queryLong("SELECT SUM(LENGTH(chunk)) FROM sq_build_logs WHERE job_id = ?",
        job));
    assertThat(stored).isEqualTo(100 + 120);

    BuildLogs.Page first = ledger.transact(tx -> BuildLogs.page(tx, job, 0, 1_000)).orElseThrow();
    assertThat(first.total()).isEqualTo(n);
    assertThat(first.finished()).isFalse(); // the job is still queued
    assertThat(readAll(job, 33)).isEqualTo(codePoints(all, 0, 100) + BuildLogs.dropped(n - 220L)
        + codePoints(all, n - 120, n));

    BuildLogs.Page gap = ledger.transact(tx -> BuildLogs.page(tx, job, 150, 10)).orElseThrow();
    assertThat(gap.text()).contains((n - 120L - 150) + " characters of output were dropped");
    assertThat(gap.nextOffset()).isEqualTo(n - 120L); // a follower in the dropped middle jumps to the tail
  }

  @Test
  void shortOutputIsKeptWholeAndAMissingBuildIsNotFound() {
    String job = build();
    BuildOutput out = new BuildOutput(List.of("s3cret"), LIMITS);
    String text = "compiling\nusing s3cret\ndone\n";
    out.append(text.toCharArray(), text.length());
    store(job, out, true);
    assertThat(readAll(job, 5)).isEqualTo("compiling\nusing ***\ndone\n");
    java.util.Optional<BuildLogs.Page> missing = ledger.transact(tx -> BuildLogs.page(tx, "no-such-build", 0, 10));
    assertThat(missing).isEmpty();
    // a build whose job retention already collected still shows its output, as finished
    ledger.transact(tx -> tx.update("DELETE FROM jobs WHERE id = ?", job));
    BuildLogs.Page page = ledger.transact(tx -> BuildLogs.page(tx, job, 0, 100)).orElseThrow();
    assertThat(page.finished()).isTrue();
    assertThat(page.text()).startsWith("compiling");
  }
}
