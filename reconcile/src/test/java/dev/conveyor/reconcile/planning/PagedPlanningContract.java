package dev.conveyor.reconcile.planning;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.LeasedPlanInput;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Planning at scale, in miniature: file lists in bounded pages, groups fanned out in batches, leases
 * kept alive by the heartbeat, a planner that loses its lease writing nothing, and a re-leased plan
 * creating the same children instead of duplicates.
 */
public abstract class PagedPlanningContract extends LedgerTestBase {
  private static final int FILES = 25;
  private static final Duration LEASE = Duration.ofSeconds(30);
  /** Tiny pages (a few files each) and batches of 3 children, so 25 files span many of both. */
  private static final CapturePlanner.Paging SMALL = new CapturePlanner.Paging(LEASE, Duration.ofMillis(50), 200, 3);
  private static final CapturePlanner.Limits TWO_PER_GROUP = new CapturePlanner.Limits(2, 1L << 30);

  @TempDir Path tableDir;
  private CaptureTables tables;

  @BeforeEach
  void table() throws Exception {
    for (int i = 0; i < FILES; i++) {
      Files.write(tableDir.resolve("part-" + i + ".parquet"), new byte[i]);
    }
    tables = new CaptureTables(ledger);
    tables.register("big", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(tableDir.toString()).build());
  }

  private CapturePlanner planner(CapturePlanner.PageListener listener) {
    return new CapturePlanner(ledger, tables, TWO_PER_GROUP, SMALL, listener);
  }

  private String capture(CapturePlanner planner) {
    return planner.startCapture("big", "", CapturePolicy.newBuilder().setFileStats(true).build());
  }

  private long count(String sql, Object... args) {
    return ledger.transact(tx -> tx.queryLong(sql, args));
  }

  private Job snapshotJob(String root) {
    return ledger.jobs().children(root).stream().filter(j -> j.kind() == JobKind.PLAN_SNAPSHOT).findFirst()
        .orElseThrow();
  }

  /** Every group's files, in planning order; asserts each group respects the limits. */
  private List<String> plannedPaths(String snapshotJobId) throws Exception {
    List<String> paths = new ArrayList<>();
    for (Job child : ledger.jobs().children(snapshotJobId)) {
      if (child.kind() == JobKind.EXEC_FILE_GROUP) {
        LeasedFileGroupExecution exec = LeasedFileGroupExecution.parseFrom(child.payload());
        assertThat(exec.getFilesCount()).isBetween(1, 2);
        assertThat(exec.getGroupId()).isEqualTo("g" + (paths.size() == 0 ? 0 : groupIndex(paths.size())));
        paths.addAll(exec.getFilePathsList());
      }
    }
    return paths;
  }

  private static int groupIndex(int filesBefore) {
    return filesBefore / 2;
  }

  private static List<String> allPaths(Path dir) {
    List<String> all = new ArrayList<>();
    for (int i = 0; i < FILES; i++) {
      all.add(dir.resolve("part-" + i + ".parquet").toAbsolutePath().toString());
    }
    return all;
  }

  @Test
  void aListingIsStoredInBoundedPagesAndItsGroupsArePlannedInBatchesThenFinalizedWithTheFilesPlanned()
      throws Exception {
    CapturePlanner planner = planner((g, page) -> { });
    String root = capture(planner);
    assertThat(planner.runOnce("planner", 1)).isEqualTo(1); // PLAN_TABLE

    Job snapshot = snapshotJob(root);
    LeasedPlanInput input = LeasedPlanInput.parseFrom(snapshot.payload());
    assertThat(input.getFilesCount()).isZero(); // the payload names the pages instead of carrying the files
    assertThat(input.getFilesListed()).isEqualTo(FILES);
    long pages = count("SELECT COUNT(*) FROM capture_plan_pages WHERE list_id = ?", input.getFileListId());
    assertThat(pages).isGreaterThan(3);
    assertThat(count("SELECT SUM(file_count) FROM capture_plan_pages WHERE list_id = ?", input.getFileListId()))
        .isEqualTo(FILES);
    // a page closes once it reaches 200 bytes: it is at most that plus one entry
    assertThat(count("SELECT MAX(LENGTH(files)) FROM capture_plan_pages")).isLessThan(200 + 200);

    assertThat(planner.runOnce("planner", 1)).isEqualTo(1); // PLAN_SNAPSHOT
    assertThat(ledger.jobs().get(snapshot.id()).state()).isEqualTo(JobState.WAITING);
    assertThat(plannedPaths(snapshot.id())).containsExactlyInAnyOrderElementsOf(allPaths(tableDir));
    // 13 groups and the finalizer, 3 to a batch: 5 batches, each its own transaction
    assertThat(ledger.jobs().children(snapshot.id())).hasSize(14);
    assertThat(count("SELECT COUNT(*) FROM job_fanout_batches WHERE parent_id = ?", snapshot.id())).isEqualTo(5);
    assertThat(count("SELECT MAX(children) FROM job_fanout_batches WHERE parent_id = ?", snapshot.id())).isEqualTo(3);
    assertThat(count("SELECT COUNT(*) FROM capture_plan_pages")).isZero(); // the groups carry their files now

    List<LeaseGrant> groups = ledger.jobs().lease(LeaseRequest.of("w", Set.of(JobKind.EXEC_FILE_GROUP), LEASE)
        .withMaxJobs(100));
    assertThat(groups).hasSize(13);
    ledger.jobs().completeAll(groups, new Completion.Succeeded(null));
    assertThat(planner.runOnce("planner", 10)).isEqualTo(1); // FINALIZE_SNAPSHOT
    assertThat(ledger.jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(count("SELECT files_planned FROM capture_snapshots WHERE table_id = 'big'")).isEqualTo(FILES);
  }

  @Test
  void aLongListingKeepsItsLeaseAliveFromTheHeartbeat() {
    AtomicInteger reaped = new AtomicInteger(-1);
    CapturePlanner planner = planner((g, page) -> {
      if (page != 1) {
        return;
      }
      // two thirds of the lease pass in the middle of the listing; the heartbeat renews it ...
      clock.advance(Duration.ofSeconds(20));
      await().atMost(Duration.ofSeconds(10)).until(() -> ledger.jobs().get(g.job().id()).leaseExpiresAt()
          .isAfter(clock.instant().plus(Duration.ofSeconds(20))));
      // ... so when the first lease would have lapsed, nothing is reclaimed
      clock.advance(Duration.ofSeconds(20));
      assertThat(g.expiresAt()).isBefore(clock.instant());
      reaped.set(ledger.jobs().reapExpired(10));
    });
    String root = capture(planner);
    assertThat(planner.runOnce("planner", 1)).isEqualTo(1);
    assertThat(reaped.get()).isZero();
    Job table = ledger.jobs().get(root);
    assertThat(table.state()).isEqualTo(JobState.WAITING);
    assertThat(table.attempts()).isEqualTo(1);
    assertThat(table.lastError()).isNull();
  }

  @Test
  void aPlannerThatLosesItsLeaseMidListingStopsWithoutWritingAndTheNextPlannerPlansOnce() throws Exception {
    CapturePlanner other = planner((g, page) -> { });
    AtomicInteger pagesAfterLoss = new AtomicInteger();
    String[] lostEpoch = new String[1];
    CapturePlanner first = planner((g, page) -> {
      if (lostEpoch[0] != null) {
        pagesAfterLoss.incrementAndGet();
        return;
      }
      if (page == 0) {
        lostEpoch[0] = g.epoch();
        // this node stalls past its lease (no heartbeat got through) and another node takes the table over
        clock.advance(LEASE.plusSeconds(1));
        assertThat(ledger.jobs().reapExpired(10)).isEqualTo(1);
        clock.advance(TEST_RETRY.backoff(1));
        assertThat(other.runOnce("node-b", 1)).isEqualTo(1);
      }
    });
    String root = capture(first);
    assertThat(first.runOnce("node-a", 1)).isEqualTo(1);

    assertThat(pagesAfterLoss.get()).isZero(); // the stalled planner wrote no page after it lost the lease
    assertThat(count("SELECT COUNT(*) FROM capture_plan_pages WHERE lease_epoch = ?", lostEpoch[0])).isZero();
    Job table = ledger.jobs().get(root);
    assertThat(table.state()).isEqualTo(JobState.WAITING); // node b's plan; node a neither failed nor re-planned it
    assertThat(table.attempts()).isEqualTo(2);
    assertThat(ledger.jobs().children(root)).hasSize(1);
    Job snapshot = snapshotJob(root);
    assertThat(LeasedPlanInput.parseFrom(snapshot.payload()).getFilesListed()).isEqualTo(FILES);
    assertThat(other.runOnce("node-b", 1)).isEqualTo(1);
    assertThat(plannedPaths(snapshot.id())).containsExactlyInAnyOrderElementsOf(allPaths(tableDir));
  }

  @Test
  void aSnapshotPlanTakenOverMidFanOutCreatesTheSameChildrenOnceNeverDuplicates() throws Exception {
    CapturePlanner planner = planner((g, page) -> { });
    String root = capture(planner);
    planner.runOnce("planner", 1); // PLAN_TABLE
    LeasedPlanInput input = LeasedPlanInput.parseFrom(snapshotJob(root).payload());

    // a node plans the snapshot's first two batches and dies
    LeaseGrant dying = ledger.jobs().leaseOne(LeaseRequest.of("dying", Set.of(JobKind.PLAN_SNAPSHOT), LEASE))
        .orElseThrow();
    AtomicInteger flushes = new AtomicInteger();
    FileGroupFanOut fanOut = new FileGroupFanOut(ledger.jobs(), dying, input, TWO_PER_GROUP, 3, () -> {
      if (flushes.incrementAndGet() > 2) {
        throw new LeaseLostException(dying.job().id(), "the node died");
      }
    });
    try {
      new PlanPages(ledger, 200).forEach(input.getFileListId(), fanOut::add);
      fanOut.finish();
    } catch (LeaseLostException expected) {
      // the third batch never went in
    }
    String snapshotId = dying.job().id();
    assertThat(ledger.jobs().children(snapshotId)).hasSize(6);
    assertThat(ledger.jobs().get(snapshotId).fanningOut()).isTrue();

    clock.advance(LEASE);
    assertThat(ledger.jobs().reapExpired(10)).isEqualTo(1);
    clock.advance(TEST_RETRY.backoff(1));
    assertThat(planner.runOnce("planner", 1)).isEqualTo(1); // the re-leased plan replays batches 0 and 1
    assertThat(ledger.jobs().get(snapshotId).state()).isEqualTo(JobState.WAITING);
    assertThat(ledger.jobs().children(snapshotId)).hasSize(14);
    assertThat(plannedPaths(snapshotId)).hasSize(FILES).containsExactlyInAnyOrderElementsOf(allPaths(tableDir));
  }

  @Test
  void theFileListOfACaptureCancelledBeforeItsGroupsWerePlannedIsCollected() {
    CapturePlanner planner = planner((g, page) -> { });
    String root = capture(planner);
    planner.runOnce("planner", 1); // PLAN_TABLE lists the files
    assertThat(count("SELECT COUNT(*) FROM capture_plan_pages")).isPositive();
    assertThat(planner.collectOrphanPages()).isZero(); // the capture is live: its list is kept
    ledger.jobs().cancel(root, "not needed");
    assertThat(planner.collectOrphanPages()).isPositive();
    assertThat(count("SELECT COUNT(*) FROM capture_plan_pages")).isZero();
  }
}
