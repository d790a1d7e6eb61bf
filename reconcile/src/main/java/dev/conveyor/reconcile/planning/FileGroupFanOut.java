package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.LeasedPlanInput;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.util.ArrayList;
import java.util.List;

/**
 * A PLAN_SNAPSHOT's children, planned as its files stream past: files go into EXEC_FILE_GROUP jobs of
 * at most {@code maxFilesPerGroup} files and {@code maxBytesPerGroup} bytes (and a payload of at most
 * {@link #MAX_GROUP_PAYLOAD}), and the groups go into the ledger in batches of at most
 * {@code batchChildren} jobs and {@link #MAX_BATCH_PAYLOAD} bytes, each its own transaction; the last
 * batch carries the FINALIZE_SNAPSHOT continuation with the number of files planned. The same files
 * and limits always give the same batches, so a re-leased planner replays them as no-ops.
 */
final class FileGroupFanOut {
  /** A group closes before its payload would pass this, whatever the file limits say. */
  static final int MAX_GROUP_PAYLOAD = 1024 * 1024;
  /** A batch closes once its payloads reach this. */
  static final int MAX_BATCH_PAYLOAD = 4 * 1024 * 1024;

  private final LeasedJobs jobs;
  private final LeaseGrant grant;
  private final LeasedPlanInput input;
  private final CapturePlanner.Limits limits;
  private final int batchChildren;
  private final Runnable check;
  private final List<PlannedFile> group = new ArrayList<>();
  private long groupBytes;
  private long groupPayload;
  private int groups;
  private long files;
  private final List<JobSpec> batch = new ArrayList<>();
  private long batchPayload;
  private int batches;
  private long replayed;

  FileGroupFanOut(LeasedJobs jobs, LeaseGrant grant, LeasedPlanInput input, CapturePlanner.Limits limits,
      int batchChildren, Runnable check) {
    this.jobs = jobs;
    this.grant = grant;
    this.input = input;
    this.limits = limits;
    this.batchChildren = batchChildren;
    this.check = check;
  }

  void add(PlannedFile f) {
    long payload = 2L * f.getSerializedSize() + 8; // the file and its path, both in the payload
    if (!group.isEmpty() && (group.size() == limits.maxFilesPerGroup()
        || groupBytes + f.getSizeBytes() > limits.maxBytesPerGroup() || groupPayload + payload > MAX_GROUP_PAYLOAD)) {
      closeGroup();
    }
    group.add(f);
    groupBytes += f.getSizeBytes();
    groupPayload += payload;
    files++;
  }

  /** Plans the last group and the finalizer; answers what was planned. */
  Planned finish() {
    if (!group.isEmpty()) {
      closeGroup();
    }
    LeasedPlanInput finalize = input.toBuilder().setKind(dev.conveyor.api.reconcile.JobKind.RJK_FINALIZE_SNAPSHOT)
        .clearFiles().clearFileListId().clearFilesListed().setFilesPlanned(files).build();
    batch.add(JobSpec.builder(JobKind.FINALIZE_SNAPSHOT).afterSiblings().payload(finalize.toByteArray()).build());
    flush(true);
    return new Planned(files, groups, batches, replayed);
  }

  /** Files and groups planned, batches written, and how many of those were replays of stored ones. */
  record Planned(long files, int groups, int batches, long replayedBatches) {}

  private void closeGroup() {
    LeasedFileGroupExecution exec = LeasedFileGroupExecution.newBuilder().setSourceConnector(input.getConnector())
        .setSourceTable(input.getTableId()).setTableId(input.getTableId()).setSnapshotId(input.getSnapshotId())
        .setPlanId(grant.job().id()).setGroupId("g" + groups).setCapturePolicy(input.getCapturePolicy())
        .addAllFiles(group).addAllFilePaths(group.stream().map(PlannedFile::getPath).toList()).build();
    byte[] payload = exec.toByteArray();
    batch.add(JobSpec.builder(JobKind.EXEC_FILE_GROUP).payload(payload).build());
    batchPayload += payload.length;
    groups++;
    group.clear();
    groupBytes = 0;
    groupPayload = 0;
    if (batch.size() >= batchChildren || batchPayload >= MAX_BATCH_PAYLOAD) {
      flush(false);
    }
  }

  private void flush(boolean last) {
    check.run();
    if (jobs.fanOutBatch(grant.job().id(), grant.epoch(), batches, List.copyOf(batch), last).replayed()) {
      replayed++;
    }
    batches++;
    batch.clear();
    batchPayload = 0;
  }
}
