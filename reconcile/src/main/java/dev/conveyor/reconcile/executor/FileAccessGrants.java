package dev.conveyor.reconcile.executor;

import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.FileAccess;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.reconcile.lake.LakeConfig;
import dev.conveyor.reconcile.lake.ObjectStore;
import java.time.Duration;
import java.time.Instant;

/**
 * Lease-scoped read access for a remote worker: each of a group's files on object storage gets a
 * presigned GET URL that expires when the lease would (the store's own signature check enforces it), so
 * a worker never holds a credential, and nothing it holds outlives its lease. The secrets that sign the
 * URLs stay on the control plane.
 */
final class FileAccessGrants {
  /** Never sign for less than this: a URL that expires in flight only costs a retry. */
  static final Duration MIN_TTL = Duration.ofSeconds(1);

  private FileAccessGrants() {}

  static void grant(LeasedFileGroupExecution.Builder exec, Job job, Instant now) {
    if (exec.getFilesList().stream().noneMatch(f -> LakeConfig.objectStore(f.getPath()))) {
      return;
    }
    ConnectorSpec connector = exec.getSourceConnector();
    // where the control plane keeps its secrets is none of the worker's business
    exec.getSourceConnectorBuilder().removeProperties(LakeConfig.CREDENTIALS_FILE);
    Duration ttl = job.leaseExpiresAt() == null ? MIN_TTL : Duration.between(now, job.leaseExpiresAt());
    if (ttl.compareTo(MIN_TTL) < 0) {
      ttl = MIN_TTL;
    }
    try (ObjectStore store = ObjectStore.open(connector)) {
      for (PlannedFile f : exec.getFilesList()) {
        if (LakeConfig.objectStore(f.getPath())) {
          exec.addFileAccess(FileAccess.newBuilder().setPath(f.getPath())
              .setUrl(store.presignGet(f.getPath(), ttl).toString()).setExpiresInMs(ttl.toMillis()));
        }
      }
    }
  }
}
