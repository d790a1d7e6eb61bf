package dev.conveyor.reconcile.planning;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.LeasedPlanInput;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.reconcile.iceberg.IcebergTables;
import dev.conveyor.reconcile.iceberg.PuffinStatistics;
import dev.conveyor.reconcile.lake.LakeConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's own planners: a capture is a PLAN_TABLE job that lists the table's snapshot
 * into pages ({@link PlanPages}) and plans one PLAN_SNAPSHOT naming the list, which splits the files
 * into EXEC_FILE_GROUP jobs (at most {@code maxFilesPerGroup} files and {@code maxBytesPerGroup} bytes
 * each) fanned out in batches ({@link FileGroupFanOut}), plus a FINALIZE_SNAPSHOT continuation that runs
 * after the last group and rolls the statistics up.
 *
 * <p>Planners lease one job at a time and keep its lease alive with a heartbeat ({@link PlanLease})
 * while they work, so no leased job waits behind another and none lapses however long a listing takes;
 * a planner that loses its lease stops without writing (every page and batch is fenced by the epoch).
 */
public final class CapturePlanner {
  private static final Logger log = LoggerFactory.getLogger(CapturePlanner.class);
  private static final Set<JobKind> KINDS = Set.of(JobKind.PLAN_TABLE, JobKind.PLAN_SNAPSHOT, JobKind.FINALIZE_SNAPSHOT);
  /** How often an idle planner collects the page lists of captures that ended before planning them. */
  private static final Duration COLLECT_EVERY = Duration.ofMinutes(1);

  public record Limits(int maxFilesPerGroup, long maxBytesPerGroup) {
    public static final Limits DEFAULT = new Limits(16, 256L * 1024 * 1024);

    public Limits {
      if (maxFilesPerGroup < 1 || maxBytesPerGroup < 1) {
        throw new IllegalArgumentException("file group limits must be positive");
      }
    }
  }

  /**
   * How planners hold leases and bound their writes: the lease they take and how often they renew
   * it, the size of a file-list page, and the most children one fan-out transaction inserts.
   */
  public record Paging(Duration lease, Duration renewEvery, int pageBytes, int batchChildren) {
    public static final Paging DEFAULT = new Paging(Duration.ofMinutes(2), Duration.ofSeconds(20),
        PlanPages.DEFAULT_PAGE_BYTES, 1_000);

    public Paging {
      if (lease.isNegative() || lease.isZero() || renewEvery.isNegative() || renewEvery.isZero()
          || renewEvery.compareTo(lease.dividedBy(2)) > 0) {
        throw new IllegalArgumentException("planner leases must be positive and renewed at least twice per lease,"
            + " got lease " + lease + " renewed every " + renewEvery);
      }
      if (batchChildren < 1) {
        throw new IllegalArgumentException("batch children must be positive, got " + batchChildren);
      }
    }
  }

  /** Called after each page of a file list is stored (tests use it to act in the middle of a listing). */
  @FunctionalInterface
  public interface PageListener {
    void stored(LeaseGrant grant, int pageIndex);

    /** Called when a job is leased, before it runs (tests use it to hold a job in flight). */
    default void leased(LeaseGrant grant) {
    }
  }

  /**
   * The planner's execution classes. A node runs each on its own loop (its own capacity), so one class
   * cannot crowd out another: a table's planning never waits behind another table's snapshot fan-out or
   * finalization (a roll-up of many files, a Puffin file written to object storage).
   */
  public enum PlannerClass {
    TABLES(JobKind.PLAN_TABLE), SNAPSHOTS(JobKind.PLAN_SNAPSHOT), FINALIZE(JobKind.FINALIZE_SNAPSHOT);

    private final Set<JobKind> kinds;

    PlannerClass(JobKind kind) {
      this.kinds = Set.of(kind);
    }

    /** The kinds of job this class of planner leases. */
    public Set<JobKind> kinds() {
      return kinds;
    }

    public String loopName() {
      return "capture-planner-" + name().toLowerCase(java.util.Locale.ROOT);
    }
  }

  private final Ledger ledger;
  private final CaptureTables tables;
  private final Limits limits;
  private final Paging paging;
  private final PlanPages pages;
  private final PageListener listener;
  private Instant lastCollected = Instant.MIN;

  public CapturePlanner(Ledger ledger, CaptureTables tables, Limits limits) {
    this(ledger, tables, limits, Paging.DEFAULT);
  }

  public CapturePlanner(Ledger ledger, CaptureTables tables, Limits limits, Paging paging) {
    this(ledger, tables, limits, paging, (g, page) -> { });
  }

  public CapturePlanner(Ledger ledger, CaptureTables tables, Limits limits, Paging paging, PageListener listener) {
    this.ledger = ledger;
    this.tables = tables;
    this.limits = limits;
    this.paging = paging;
    this.pages = new PlanPages(ledger, paging.pageBytes());
    this.listener = listener;
  }

  /** Starts a capture of {@code tableId} (its current snapshot when {@code snapshotId} is empty). */
  public String startCapture(String tableId, String snapshotId, CapturePolicy policy) {
    return startCapture(tableId, snapshotId, List.of(), 0, policy);
  }

  /** Iceberg tables may name several snapshots, or the latest N; a directory has only its current one. */
  public String startCapture(String tableId, String snapshotId, List<String> snapshotIds, int latest,
      CapturePolicy policy) {
    ConnectorSpec connector = tables.connector(tableId).orElseThrow(() -> new IllegalArgumentException(
        "table_id '" + tableId + "' is not registered; register it first"));
    if (latest < 0) {
      throw new IllegalArgumentException("latest_snapshots must not be negative");
    }
    if (connector.getKind() != ConnectorSpec.Kind.ICEBERG && (latest > 0 || !snapshotIds.isEmpty())) {
      throw new IllegalArgumentException("latest_snapshots and snapshot_ids need an Iceberg table; " + tableId
          + " is a " + connector.getKind());
    }
    LeasedPlanInput input = LeasedPlanInput.newBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_PLAN_TABLE)
        .setTableId(tableId).setSnapshotId(snapshotId == null ? "" : snapshotId).setConnector(connector)
        .setCapturePolicy(policy).setLatestSnapshots(latest).addAllSnapshotIds(snapshotIds).build();
    return ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).laneKey("plan-table:" + tableId)
        .payload(input.toByteArray()).build()).jobId();
  }

  /**
   * The PLAN_TABLE a schedule starts: an Iceberg table's snapshots committed at or after {@code sinceMs}
   * (and its current one) not finalized yet; a directory's listing unless it is finalized completely.
   */
  public JobSpec scheduledCapture(String tableId, CapturePolicy policy, long sinceMs) {
    ConnectorSpec connector = tables.connector(tableId).orElseThrow(() -> new IllegalArgumentException(
        "table_id '" + tableId + "' is not registered; register it first"));
    LeasedPlanInput input = LeasedPlanInput.newBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_PLAN_TABLE)
        .setTableId(tableId).setConnector(connector).setCapturePolicy(policy).setScheduled(true)
        .setSnapshotsSinceMs(sinceMs).build();
    return JobSpec.builder(JobKind.PLAN_TABLE).laneKey("plan-table:" + tableId).payload(input.toByteArray()).build();
  }

  /**
   * Runs up to {@code max} planner jobs, leasing each only when the previous one is done (jobs the
   * runs create are among them); answers how many it ran.
   */
  public int runOnce(String executorId, int max) {
    return runOnce(executorId, max, KINDS);
  }

  /** As above, for the jobs of one execution class only. */
  public int runOnce(String executorId, int max, PlannerClass plannerClass) {
    return runOnce(executorId, max, plannerClass.kinds);
  }

  private int runOnce(String executorId, int max, Set<JobKind> kinds) {
    int ran = 0;
    while (ran < max) {
      Optional<LeaseGrant> grant = ledger.jobs().leaseOne(LeaseRequest.of(executorId, kinds, paging.lease()));
      if (grant.isEmpty()) {
        break;
      }
      ran++;
      runLeased(grant.get());
    }
    if (ran == 0 && kinds.contains(JobKind.PLAN_TABLE) && collectDue()) {
      collectOrphanPages();
    }
    return ran;
  }

  private synchronized boolean collectDue() {
    if (ledger.clock().instant().isBefore(lastCollected.plus(COLLECT_EVERY))) {
      return false;
    }
    lastCollected = ledger.clock().instant();
    return true;
  }

  /** Drops the page lists of captures that ended before their groups were planned; answers the pages dropped. */
  public int collectOrphanPages() {
    int dropped = pages.collectOrphans(100);
    if (dropped > 0) {
      log.info("dropped {} file-list pages of captures that ended before planning them", dropped);
    }
    return dropped;
  }

  private void runLeased(LeaseGrant g) {
    String id = g.job().id();
    listener.leased(g);
    try (PlanLease lease = PlanLease.keep(ledger.jobs(), g, paging.lease(), paging.renewEvery())) {
      run(g, lease);
    } catch (LeaseLostException e) {
      log.info("planner job {} stopped without writing more: {}", id, e.getMessage());
    } catch (PlanLease.CancelRequested e) {
      complete(g, new Completion.Cancelled(e.getMessage()));
    } catch (IllegalArgumentException | IdempotencyMismatchException e) {
      if (complete(g, new Completion.Failed(e.getMessage(), Completion.Disposition.TERMINAL))) {
        pages.dropJob(id);
      }
    } catch (IOException | RuntimeException e) {
      log.warn("planner job {} failed: {}", id, e.getMessage());
      complete(g, new Completion.Failed(e.getClass().getSimpleName() + ": " + e.getMessage(),
          Completion.Disposition.RETRYABLE));
    } catch (Error e) {
      // the planner's supervisor restarts the loop; this attempt ends now (counted, retried after backoff)
      // rather than holding the job until its lease runs out
      try {
        complete(g, new Completion.Failed(e.getClass().getSimpleName() + ": " + e.getMessage(),
            Completion.Disposition.RETRYABLE));
      } catch (RuntimeException | Error whileEnding) {
        e.addSuppressed(whileEnding);
      }
      throw e;
    }
  }

  /** Completes a job this planner holds; answers false (and writes nothing) once the lease is lost. */
  private boolean complete(LeaseGrant g, Completion completion) {
    try {
      ledger.jobs().complete(g.job().id(), g.epoch(), completion);
      return true;
    } catch (LeaseLostException e) {
      log.info("planner job {} lost its lease before it could end: {}", g.job().id(), e.getMessage());
      return false;
    }
  }

  private void run(LeaseGrant g, PlanLease lease) throws IOException {
    LeasedPlanInput input;
    try {
      input = LeasedPlanInput.parseFrom(g.job().payload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("job " + g.job().id() + " has an unreadable plan input");
    }
    ledger.jobs().start(g.job().id(), g.epoch());
    switch (g.job().kind()) {
      case PLAN_TABLE -> planTable(g, input, lease);
      case PLAN_SNAPSHOT -> planSnapshot(g, input, lease);
      case FINALIZE_SNAPSHOT -> {
        if (input.getConnector().getKind() == ConnectorSpec.Kind.ICEBERG) {
          finalizeIcebergSnapshot(g, input, lease);
        } else {
          ledger.transact(tx -> {
            SnapshotRollup.finalizeSnapshot(tx, input.getTableId(), input.getSnapshotId(), g.job().id(),
                input.getFilesPlanned());
            return ledger.jobs().complete(tx, g.job().id(), g.epoch(), new Completion.Succeeded(null));
          });
        }
      }
      default -> throw new IllegalArgumentException("planner cannot run " + g.job().kind());
    }
  }

  /**
   * Rolls the snapshot up, then (when every planned file was captured) writes and registers its Puffin
   * statistics file, then ends the job naming the file. A retry after a crash between the two rolls up
   * again and registers a new file in place of the first (the table's own commit decides).
   */
  private void finalizeIcebergSnapshot(LeaseGrant g, LeasedPlanInput input, PlanLease lease) {
    SnapshotRollup.Finalized finalized = ledger.transact(tx -> SnapshotRollup.finalizeSnapshot(tx,
        input.getTableId(), input.getSnapshotId(), g.job().id(), input.getFilesPlanned()));
    String statisticsFile = "";
    if (finalized.unreadable() > 0) {
      log.info("table {} snapshot {} is partial ({} unreadable files): no Puffin statistics file is registered,"
          + " as engines would take its NDV for the whole snapshot", input.getTableId(), input.getSnapshotId(),
          finalized.unreadable());
    } else {
      lease.check();
      List<dev.conveyor.api.catalog.ColumnStats> columns = ledger.transact(tx ->
          SnapshotRollup.tableColumns(tx, input.getTableId(), input.getSnapshotId()));
      long started = System.nanoTime();
      PuffinStatistics.Published published = PuffinStatistics.publish(IcebergTables.load(input.getConnector()),
          Long.parseLong(input.getSnapshotId()), columns);
      statisticsFile = published.path();
      log.info("table {} snapshot {}: Puffin statistics file {} ({} bytes, NDV of {} columns) registered in {} ms",
          input.getTableId(), input.getSnapshotId(), published.path(), published.sizeBytes(),
          published.columns().size(), (System.nanoTime() - started) / 1_000_000);
    }
    String file = statisticsFile;
    ledger.transact(tx -> {
      tx.update("UPDATE capture_snapshots SET statistics_file = ? WHERE table_id = ? AND snapshot_id = ?",
          file.isEmpty() ? null : file, input.getTableId(), input.getSnapshotId());
      return ledger.jobs().complete(tx, g.job().id(), g.epoch(), new Completion.Succeeded(null));
    });
  }

  private PlanPages.Writer writer(LeaseGrant g, PlanLease lease) {
    return pages.writer(g, lease::check, page -> listener.stored(g, page));
  }

  private void planTable(LeaseGrant g, LeasedPlanInput input, PlanLease lease) throws IOException {
    pages.dropEarlierAttempts(g);
    if (input.getConnector().getKind() == ConnectorSpec.Kind.ICEBERG) {
      planIcebergTable(g, input, lease);
      return;
    }
    PlanPages.Writer list = writer(g, lease);
    DirectorySnapshot snapshot = LakeConfig.objectStore(input.getConnector().getLocation())
        ? DirectorySnapshot.scanObjectStore(input.getConnector(), list::add)
        : DirectorySnapshot.scan(Path.of(input.getConnector().getLocation()), list::add);
    if (input.getScheduled() && finalizedCompletely(input.getTableId(), snapshot.snapshotId())) {
      log.info("table {} is unchanged since its last capture (snapshot {}); the scheduled capture plans nothing",
          input.getTableId(), snapshot.snapshotId());
      pages.dropJob(g.job().id());
      ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
      return;
    }
    if (!input.getSnapshotId().isEmpty() && !input.getSnapshotId().equals(snapshot.snapshotId())) {
      throw new IllegalArgumentException("snapshot " + input.getSnapshotId() + " of table " + input.getTableId()
          + " is not its current snapshot (" + snapshot.snapshotId() + "); a directory only has its current one");
    }
    ledger.jobs().fanOut(g.job().id(), g.epoch(), List.of(snapshotChild(input, snapshot.snapshotId(), list)));
    ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
  }

  /** A PLAN_SNAPSHOT naming the listed pages (its payload stays small whatever the snapshot's size). */
  private JobSpec snapshotChild(LeasedPlanInput input, String snapshotId, PlanPages.Writer list) {
    LeasedPlanInput child = input.toBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_PLAN_SNAPSHOT)
        .setSnapshotId(snapshotId).clearSnapshotIds().clearLatestSnapshots().clearFiles()
        .setFileListId(list.finish()).setFilesListed(list.files()).build();
    return JobSpec.builder(JobKind.PLAN_SNAPSHOT).laneKey("plan-snapshot:" + input.getTableId() + ":" + snapshotId)
        .payload(child.toByteArray()).build();
  }

  /** One PLAN_SNAPSHOT per chosen snapshot that is not finalized yet (capture is incremental). */
  private void planIcebergTable(LeaseGrant g, LeasedPlanInput input, PlanLease lease) {
    List<String> ids = new ArrayList<>(input.getSnapshotIdsList());
    if (!input.getSnapshotId().isEmpty()) {
      ids.add(input.getSnapshotId());
    }
    IcebergSnapshots.Chosen chosen = input.getScheduled()
        ? IcebergSnapshots.since(input.getConnector(), input.getSnapshotsSinceMs())
        : IcebergSnapshots.choose(input.getConnector(), ids, input.getLatestSnapshots());
    List<JobSpec> children = new ArrayList<>();
    for (var s : chosen.snapshots()) {
      String snapshotId = String.valueOf(s.snapshotId());
      // a partial snapshot is planned again: files unreadable then may be readable now
      if (finalizedCompletely(input.getTableId(), snapshotId)) {
        log.info("table {} snapshot {} is already captured completely; skipped", input.getTableId(), snapshotId);
        continue;
      }
      PlanPages.Writer list = writer(g, lease);
      IcebergSnapshots.scan(chosen.table(), s, list::add);
      children.add(snapshotChild(input, snapshotId, list));
    }
    if (!children.isEmpty()) {
      ledger.jobs().fanOut(g.job().id(), g.epoch(), children);
    }
    ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
  }

  private boolean finalizedCompletely(String tableId, String snapshotId) {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_snapshots WHERE table_id = ? AND"
        + " snapshot_id = ? AND files_unreadable = 0", tableId, snapshotId)) > 0;
  }

  /**
   * Plans the groups from the stored pages (or, for a plan made before pages existed, from the files
   * in its payload), batch by batch, then drops the pages: the groups carry their own files.
   */
  private void planSnapshot(LeaseGrant g, LeasedPlanInput input, PlanLease lease) {
    FileGroupFanOut fanOut = new FileGroupFanOut(ledger.jobs(), g, input, limits, paging.batchChildren(), lease::check);
    if (input.getFileListId().isEmpty()) {
      input.getFilesList().forEach(fanOut::add);
    } else {
      long read = pages.forEach(input.getFileListId(), fanOut::add);
      if (read != input.getFilesListed()) {
        throw new IllegalArgumentException("file list " + input.getFileListId() + " holds " + read + " files; "
            + input.getFilesListed() + " were listed (were its pages collected?)");
      }
    }
    FileGroupFanOut.Planned planned = fanOut.finish();
    log.info("planned {} files of table {} snapshot {} into {} groups in {} batches ({} replayed)", planned.files(),
        input.getTableId(), input.getSnapshotId(), planned.groups(), planned.batches(), planned.replayedBatches());
    if (!input.getFileListId().isEmpty()) {
      pages.drop(input.getFileListId());
    }
    ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
  }
}
