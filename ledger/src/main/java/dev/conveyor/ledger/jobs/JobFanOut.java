package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Hashing;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.FannedOut;
import java.security.MessageDigest;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A planner's result: its children are inserted and the planner moves to WAITING in one
 * transaction, fingerprinted so a replay with the same children is a no-op and a replay
 * with different children is refused.
 */
final class JobFanOut {
  private JobFanOut() {}

  static FannedOut fanOut(Tx tx, String parentId, String epoch, List<JobSpec> children) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job parent = JobRows.require(tx, parentId);
    String fingerprint = fingerprint(children);
    if (parent.childrenFingerprint() != null) {
      if (!parent.childrenFingerprint().equals(fingerprint)) {
        throw new IdempotencyMismatchException("job " + parentId + " already planned a different set of children");
      }
      List<String> ids = JobRows.children(tx, parentId).stream().map(Job::id).toList();
      return new FannedOut(ids, true);
    }
    if (!parent.heldWith(epoch)) {
      throw new LeaseLostException(parentId, JobLeasing.staleReason(parent, epoch));
    }
    if (parent.state() == JobState.CANCELLING) {
      throw new InvalidJobStateException("job " + parentId + " is being cancelled; it cannot plan children");
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < children.size(); i++) {
      ids.add(JobQueue.enqueue(tx, children.get(i), parentId, parent.rootId(), i).jobId());
    }
    if (children.isEmpty()) {
      JobRows.cas(tx, parent, "state = 'SUCCEEDED', finished_at = ?, children_fingerprint = ?, lease_owner = NULL,"
          + " lease_expires_at = NULL", tx.nowMillis(), fingerprint);
      ParentResolution.afterChildTerminal(tx, parent);
    } else {
      // The epoch stays on the row so the planner's own completion is recognised.
      JobRows.cas(tx, parent, "state = 'WAITING', children_fingerprint = ?, lease_owner = NULL,"
          + " lease_expires_at = NULL", fingerprint);
    }
    return new FannedOut(List.copyOf(ids), false);
  }

  static String fingerprint(List<JobSpec> children) {
    MessageDigest digest = Hashing.sha256();
    for (JobSpec c : children) {
      Hashing.update(digest, c.kind().name());
      Hashing.update(digest, c.executionClass());
      Hashing.update(digest, c.lane());
      Hashing.update(digest, c.laneKey());
      Hashing.update(digest, c.pinnedExecutorId());
      Hashing.update(digest, c.dedupeKey());
      Hashing.update(digest, Integer.toString(c.maxAttempts()));
      Hashing.update(digest, c.afterSiblings() ? "after-siblings" : "");
      Hashing.update(digest, c.payload());
    }
    return HexFormat.of().formatHex(digest.digest());
  }
}
