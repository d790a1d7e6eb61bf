package dev.conveyor.reconcile.planning;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.LeasedPlanInput;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The control plane's own planners: a capture is a PLAN_TABLE job that lists the table's snapshot
 * and plans one PLAN_SNAPSHOT, which splits the snapshot's files into EXEC_FILE_GROUP jobs (at most
 * {@code maxFilesPerGroup} files and {@code maxBytesPerGroup} bytes each) plus a FINALIZE_SNAPSHOT
 * continuation that runs after the last group and rolls the statistics up.
 */
public final class CapturePlanner {
  private static final Logger log = LoggerFactory.getLogger(CapturePlanner.class);
  private static final Set<JobKind> KINDS = Set.of(JobKind.PLAN_TABLE, JobKind.PLAN_SNAPSHOT, JobKind.FINALIZE_SNAPSHOT);

  public record Limits(int maxFilesPerGroup, long maxBytesPerGroup) {
    public static final Limits DEFAULT = new Limits(16, 256L * 1024 * 1024);

    public Limits {
      if (maxFilesPerGroup < 1 || maxBytesPerGroup < 1) {
        throw new IllegalArgumentException("file group limits must be positive");
      }
    }
  }

  private final Ledger ledger;
  private final CaptureTables tables;
  private final Limits limits;

  public CapturePlanner(Ledger ledger, CaptureTables tables, Limits limits) {
    this.ledger = ledger;
    this.tables = tables;
    this.limits = limits;
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

  /** Leases and runs up to {@code max} planner jobs; answers how many it ran. */
  public int runOnce(String executorId, int max) {
    List<LeaseGrant> grants = ledger.jobs().lease(LeaseRequest.of(executorId, KINDS, Duration.ofMinutes(2))
        .withMaxJobs(max));
    for (LeaseGrant g : grants) {
      try {
        run(g);
      } catch (IllegalArgumentException e) {
        ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Failed(e.getMessage(),
            Completion.Disposition.TERMINAL));
      } catch (IOException | RuntimeException e) {
        log.warn("planner job {} failed: {}", g.job().id(), e.getMessage());
        ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Failed(e.getClass().getSimpleName() + ": "
            + e.getMessage(), Completion.Disposition.RETRYABLE));
      }
    }
    return grants.size();
  }

  private void run(LeaseGrant g) throws IOException {
    LeasedPlanInput input;
    try {
      input = LeasedPlanInput.parseFrom(g.job().payload());
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("job " + g.job().id() + " has an unreadable plan input");
    }
    ledger.jobs().start(g.job().id(), g.epoch());
    switch (g.job().kind()) {
      case PLAN_TABLE -> planTable(g, input);
      case PLAN_SNAPSHOT -> planSnapshot(g, input);
      case FINALIZE_SNAPSHOT -> ledger.transact(tx -> {
        SnapshotRollup.finalizeSnapshot(tx, input.getTableId(), input.getSnapshotId(), g.job().id(),
            input.getFilesPlanned());
        return ledger.jobs().complete(tx, g.job().id(), g.epoch(), new Completion.Succeeded(null));
      });
      default -> throw new IllegalArgumentException("planner cannot run " + g.job().kind());
    }
  }

  private void planTable(LeaseGrant g, LeasedPlanInput input) throws IOException {
    if (input.getConnector().getKind() == ConnectorSpec.Kind.ICEBERG) {
      planIcebergTable(g, input);
      return;
    }
    DirectorySnapshot snapshot = DirectorySnapshot.list(Path.of(input.getConnector().getLocation()));
    if (!input.getSnapshotId().isEmpty() && !input.getSnapshotId().equals(snapshot.snapshotId())) {
      throw new IllegalArgumentException("snapshot " + input.getSnapshotId() + " of table " + input.getTableId()
          + " is not its current snapshot (" + snapshot.snapshotId() + "); a directory only has its current one");
    }
    LeasedPlanInput child = input.toBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_PLAN_SNAPSHOT)
        .setSnapshotId(snapshot.snapshotId()).clearFiles().addAllFiles(snapshot.files()).build();
    ledger.jobs().fanOut(g.job().id(), g.epoch(), List.of(JobSpec.builder(JobKind.PLAN_SNAPSHOT)
        .laneKey("plan-snapshot:" + input.getTableId() + ":" + snapshot.snapshotId())
        .payload(child.toByteArray()).build()));
    ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
  }

  /** One PLAN_SNAPSHOT per chosen snapshot that is not finalized yet (capture is incremental). */
  private void planIcebergTable(LeaseGrant g, LeasedPlanInput input) {
    List<String> ids = new ArrayList<>(input.getSnapshotIdsList());
    if (!input.getSnapshotId().isEmpty()) {
      ids.add(input.getSnapshotId());
    }
    List<JobSpec> children = new ArrayList<>();
    for (var s : IcebergSnapshots.plan(input.getConnector().getLocation(), ids, input.getLatestSnapshots())) {
      // a partial snapshot is planned again: files unreadable then may be readable now
      boolean finalized = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_snapshots"
          + " WHERE table_id = ? AND snapshot_id = ? AND files_unreadable = 0", input.getTableId(), s.snapshotId())) > 0;
      if (finalized) {
        log.info("table {} snapshot {} is already captured completely; skipped", input.getTableId(), s.snapshotId());
        continue;
      }
      LeasedPlanInput child = input.toBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_PLAN_SNAPSHOT)
          .setSnapshotId(s.snapshotId()).clearSnapshotIds().clearLatestSnapshots().clearFiles()
          .addAllFiles(s.files()).build();
      children.add(JobSpec.builder(JobKind.PLAN_SNAPSHOT)
          .laneKey("plan-snapshot:" + input.getTableId() + ":" + s.snapshotId()).payload(child.toByteArray()).build());
    }
    if (!children.isEmpty()) {
      ledger.jobs().fanOut(g.job().id(), g.epoch(), children);
    }
    ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
  }

  private void planSnapshot(LeaseGrant g, LeasedPlanInput input) {
    List<List<PlannedFile>> groups = group(input.getFilesList());
    List<JobSpec> children = new ArrayList<>();
    for (int i = 0; i < groups.size(); i++) {
      LeasedFileGroupExecution exec = LeasedFileGroupExecution.newBuilder().setSourceConnector(input.getConnector())
          .setSourceTable(input.getTableId()).setTableId(input.getTableId()).setSnapshotId(input.getSnapshotId())
          .setPlanId(g.job().id()).setGroupId("g" + i).setCapturePolicy(input.getCapturePolicy())
          .addAllFiles(groups.get(i)).addAllFilePaths(groups.get(i).stream().map(PlannedFile::getPath).toList())
          .build();
      children.add(JobSpec.builder(JobKind.EXEC_FILE_GROUP).payload(exec.toByteArray()).build());
    }
    LeasedPlanInput finalize = input.toBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_FINALIZE_SNAPSHOT)
        .clearFiles().setFilesPlanned(input.getFilesCount()).build();
    children.add(JobSpec.builder(JobKind.FINALIZE_SNAPSHOT).afterSiblings().payload(finalize.toByteArray()).build());
    ledger.jobs().fanOut(g.job().id(), g.epoch(), children);
    ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
  }

  List<List<PlannedFile>> group(List<PlannedFile> files) {
    List<List<PlannedFile>> groups = new ArrayList<>();
    List<PlannedFile> current = new ArrayList<>();
    long bytes = 0;
    for (PlannedFile f : files) {
      if (!current.isEmpty() && (current.size() == limits.maxFilesPerGroup()
          || bytes + f.getSizeBytes() > limits.maxBytesPerGroup())) {
        groups.add(current);
        current = new ArrayList<>();
        bytes = 0;
      }
      current.add(f);
      bytes += f.getSizeBytes();
    }
    if (!current.isEmpty()) {
      groups.add(current);
    }
    return groups;
  }
}
