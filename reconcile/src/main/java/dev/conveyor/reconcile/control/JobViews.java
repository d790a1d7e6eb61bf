package dev.conveyor.reconcile.control;

import dev.conveyor.api.reconcile.JobInfo;
import dev.conveyor.api.reconcile.JobTreeNode;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.Progress;
import dev.conveyor.api.reconcile.SnapshotCompleteness;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.Outcomes.JobTree;
import dev.conveyor.reconcile.executor.JobKinds;

/** Ledger jobs as the public contract shows them: a bounded view read from the jobs table. */
final class JobViews {
  private JobViews() {}

  static JobInfo info(Job j) {
    JobInfo.Builder b = JobInfo.newBuilder().setJobId(j.id()).setKind(JobKinds.toWire(j.kind()))
        .setState(JobKinds.toWire(j.state())).setParentJobId(nz(j.parentId())).setRootJobId(j.rootId())
        .setAttempts(j.attempts()).setMaxAttempts(j.maxAttempts()).setLastError(nz(j.lastError()))
        .setLeaseOwner(nz(j.leaseOwner())).setCreatedAtMs(j.createdAt().toEpochMilli())
        .setProgress(Progress.newBuilder().setFilesDone(j.progress().done()).setFilesTotal(j.progress().total())
            .setFilesFailed(j.progress().failed()).setBytesDone(j.progress().bytes())
            .setMessage(nz(j.progress().message())));
    if (j.startedAt() != null) {
      b.setStartedAtMs(j.startedAt().toEpochMilli());
    }
    if (j.finishedAt() != null) {
      b.setFinishedAtMs(j.finishedAt().toEpochMilli());
    }
    if (j.kind() == JobKind.EXEC_FILE_GROUP) {
      try {
        LeasedFileGroupExecution g = LeasedFileGroupExecution.parseFrom(j.payload());
        b.setTableId(g.getTableId()).setSnapshotId(g.getSnapshotId());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        // a file group enqueued by something else: show it without table and snapshot
      }
    }
    if (j.kind() == JobKind.FINALIZE_SNAPSHOT) {
      try {
        var input = dev.conveyor.api.reconcile.LeasedPlanInput.parseFrom(j.payload());
        b.setTableId(input.getTableId()).setSnapshotId(input.getSnapshotId());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        // a finalizer enqueued by something else: show it without table and snapshot
      }
    }
    return b.build();
  }

  static JobTreeNode tree(JobTree tree) {
    return tree(tree, java.util.Map.of());
  }

  /** {@code completeness}: of the tree's finalizers that finalized, by job id. */
  static JobTreeNode tree(JobTree tree, java.util.Map<String, SnapshotCompleteness> completeness) {
    JobInfo.Builder job = info(tree.job()).toBuilder();
    SnapshotCompleteness c = completeness.get(tree.job().id());
    if (c != null) {
      job.setCompleteness(c);
    }
    JobTreeNode.Builder node = JobTreeNode.newBuilder().setJob(job);
    tree.children().forEach(ch -> node.addChildren(tree(ch, completeness)));
    return node.build();
  }

  /** The ids of the tree's FINALIZE_SNAPSHOT jobs. */
  static java.util.List<String> finalizers(JobTree tree) {
    java.util.List<String> ids = new java.util.ArrayList<>();
    if (tree.job().kind() == JobKind.FINALIZE_SNAPSHOT) {
      ids.add(tree.job().id());
    }
    tree.children().forEach(ch -> ids.addAll(finalizers(ch)));
    return ids;
  }

  private static String nz(String s) {
    return s == null ? "" : s;
  }
}
