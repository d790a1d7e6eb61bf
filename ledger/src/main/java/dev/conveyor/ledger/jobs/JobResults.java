package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Hashing;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.RecordedResult;
import java.sql.SQLException;
import java.util.Optional;

/**
 * Idempotent results keyed by (job, result id). The ledger keeps a SHA-256 of the canonical
 * request: the same request replays the stored response, a different one is refused. The
 * caller's effect runs in the same transaction as the record, so both happen or neither does.
 */
final class JobResults {
  private JobResults() {}

  private record Stored(String sha, byte[] response) {}

  static RecordedResult record(Tx tx, String jobId, String epoch, String resultId, byte[] canonicalRequest,
      ResultEffect effect) throws SQLException {
    JobRows.requireId("job_id", jobId);
    JobRows.requireId("result_id", resultId);
    JobRows.requireId("lease_epoch", epoch);
    if (resultId.length() > 512) {
      throw new IllegalArgumentException("result_id is longer than 512 characters");
    }
    String sha = Hashing.sha256Hex(canonicalRequest);
    Optional<Stored> stored = tx.queryOne("SELECT request_sha256, response FROM job_results"
        + " WHERE job_id = ? AND result_id = ?", rs -> new Stored(rs.getString(1), rs.getBytes(2)), jobId, resultId);
    if (stored.isPresent()) {
      if (stored.get().sha().equals(sha)) {
        return new RecordedResult(stored.get().response(), true);
      }
      throw new IdempotencyMismatchException("result '" + resultId + "' of job " + jobId
          + " was already recorded with a different payload");
    }
    Job job = JobRows.require(tx, jobId);
    if (!job.heldWith(epoch)) {
      throw new LeaseLostException(jobId, JobLeasing.staleReason(job, epoch));
    }
    byte[] response = effect.apply(tx, job);
    int inserted = tx.update("INSERT INTO job_results (job_id, result_id, request_sha256, response, lease_epoch,"
        + " created_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", jobId, resultId, sha,
        response == null ? new byte[0] : response, epoch, tx.nowMillis());
    if (inserted == 0) {
      // A concurrent identical submit won; the retry reads its stored answer.
      throw new OptimisticConflictException("result " + resultId + " recorded concurrently");
    }
    return new RecordedResult(response, false);
  }

  static Optional<byte[]> find(Tx tx, String jobId, String resultId) throws SQLException {
    return tx.queryOne("SELECT response FROM job_results WHERE job_id = ? AND result_id = ?",
        rs -> rs.getBytes(1), jobId, resultId);
  }
}
