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
 *
 * <p>A fan-out too large for one transaction goes in numbered batches ({@link #fanOutBatch}): the
 * planner stays RUNNING (its children_fingerprint says {@link #IN_PROGRESS}) while batches go in, and
 * moves to WAITING with the last one. Children of earlier batches are leasable at once; a parent that
 * is not WAITING ignores their ends, and the last batch resolves it at once if they are all terminal.
 * Each batch is fingerprinted, so a re-leased planner that plans again replays the same batches as
 * no-ops and a different batch is refused. A planner that ends FAILED or CANCELLED before its last
 * batch takes its children with it (see {@link JobCompletion} and {@link JobReaper}).
 */
final class JobFanOut {
  /** children_fingerprint of a planner between its first and last batch. */
  static final String IN_PROGRESS = "fan-out-in-progress";

  private JobFanOut() {}

  private record Batch(int firstOrdinal, int children, String fingerprint) {}

  static FannedOut fanOut(Tx tx, String parentId, String epoch, List<JobSpec> children) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    Job parent = JobRows.require(tx, parentId);
    String fingerprint = fingerprint(children);
    if (parent.fanningOut()) {
      throw new InvalidJobStateException("job " + parentId + " is fanning out in batches; it cannot also fan out at once");
    }
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

  static FannedOut fanOutBatch(Tx tx, String parentId, String epoch, int batchIndex, List<JobSpec> children,
      boolean last) throws SQLException {
    JobRows.requireId("lease_epoch", epoch);
    if (batchIndex < 0) {
      throw new IllegalArgumentException("batch_index must not be negative, got " + batchIndex);
    }
    if (!last && children.stream().anyMatch(JobSpec::afterSiblings)) {
      throw new IllegalArgumentException("a continuation child (after_siblings) must be in the last batch,"
          + " or it could run before later batches exist");
    }
    Job parent = JobRows.require(tx, parentId);
    String fingerprint = batchFingerprint(children, last);
    java.util.Optional<Batch> stored = batch(tx, parentId, batchIndex);
    if (stored.isPresent()) {
      if (!stored.get().fingerprint().equals(fingerprint)) {
        throw new IdempotencyMismatchException("job " + parentId + " already planned a different batch " + batchIndex
            + " of children");
      }
      List<String> ids = tx.query("SELECT id FROM jobs WHERE parent_id = ? AND child_ordinal >= ?"
          + " AND child_ordinal < ? ORDER BY child_ordinal", rs -> rs.getString(1), parentId,
          stored.get().firstOrdinal(), stored.get().firstOrdinal() + stored.get().children());
      return new FannedOut(ids, true);
    }
    if (parent.childrenFingerprint() != null && !parent.fanningOut()) {
      throw new IdempotencyMismatchException("job " + parentId + " already planned all its children; batch "
          + batchIndex + " is not among them");
    }
    if (!parent.heldWith(epoch)) {
      throw new LeaseLostException(parentId, JobLeasing.staleReason(parent, epoch));
    }
    if (parent.state() == JobState.CANCELLING) {
      throw new InvalidJobStateException("job " + parentId + " is being cancelled; it cannot plan children");
    }
    int first = 0;
    if (batchIndex > 0) {
      Batch previous = batch(tx, parentId, batchIndex - 1).orElseThrow(() -> new IllegalArgumentException(
          "batch " + (batchIndex - 1) + " of job " + parentId + " has not been planned; batches go in order"));
      first = previous.firstOrdinal() + previous.children();
    }
    int total = first + children.size();
    // The parent's row changes first: a concurrent cancel either sees these children or refuses them.
    if (!last) {
      JobRows.cas(tx, parent, "children_fingerprint = ?", IN_PROGRESS);
    } else if (total == 0) {
      JobRows.cas(tx, parent, "state = 'SUCCEEDED', finished_at = ?, children_fingerprint = ?, lease_owner = NULL,"
          + " lease_expires_at = NULL", tx.nowMillis(), allBatches(tx, parentId, fingerprint));
    } else {
      JobRows.cas(tx, parent, "state = 'WAITING', children_fingerprint = ?, lease_owner = NULL,"
          + " lease_expires_at = NULL", allBatches(tx, parentId, fingerprint));
    }
    List<String> ids = JobQueue.enqueueChildren(tx, children, parentId, parent.rootId(), first);
    tx.update("INSERT INTO job_fanout_batches (parent_id, batch_index, first_ordinal, children, fingerprint,"
        + " created_at) VALUES (?, ?, ?, ?, ?, ?)", parentId, batchIndex, first, children.size(), fingerprint,
        tx.nowMillis());
    if (last && total == 0) {
      ParentResolution.afterChildTerminal(tx, parent);
    } else if (last) {
      ParentResolution.resolveFrom(tx, parentId); // earlier batches may all have ended already
    }
    return new FannedOut(List.copyOf(ids), false);
  }

  private static java.util.Optional<Batch> batch(Tx tx, String parentId, int index) throws SQLException {
    return tx.queryOne("SELECT first_ordinal, children, fingerprint FROM job_fanout_batches WHERE parent_id = ?"
        + " AND batch_index = ?", rs -> new Batch(rs.getInt(1), rs.getInt(2), rs.getString(3)), parentId, index);
  }

  /** The parent's children_fingerprint once its last batch is in: a digest of every batch's. */
  private static String allBatches(Tx tx, String parentId, String lastBatch) throws SQLException {
    MessageDigest digest = Hashing.sha256();
    Hashing.update(digest, "batches");
    for (String f : tx.query("SELECT fingerprint FROM job_fanout_batches WHERE parent_id = ? ORDER BY batch_index",
        rs -> rs.getString(1), parentId)) {
      Hashing.update(digest, f);
    }
    Hashing.update(digest, lastBatch);
    return HexFormat.of().formatHex(digest.digest());
  }

  private static String batchFingerprint(List<JobSpec> children, boolean last) {
    MessageDigest digest = Hashing.sha256();
    Hashing.update(digest, last ? "last-batch" : "batch");
    Hashing.update(digest, fingerprint(children));
    return HexFormat.of().formatHex(digest.digest());
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
