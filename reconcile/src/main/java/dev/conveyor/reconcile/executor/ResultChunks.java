package dev.conveyor.reconcile.executor;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.reconcile.ChunkedSuccess;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.StageLeasedResultChunkRequest;
import dev.conveyor.ledger.Tx;
import java.io.ByteArrayOutputStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * Success results larger than one gRPC message: the worker stages numbered pieces, each stored once
 * (a retried piece with the same bytes is a no-op, different bytes are refused), then submits a
 * ChunkedSuccess naming their count, size and digest; the pieces are joined, checked, and dropped
 * in the transaction that records the result.
 */
final class ResultChunks {
  static final int MAX_CHUNKS = 10_000;
  /**
   * One job's staged pieces, all result ids together, and one joined result: the control plane joins a
   * result in memory, so this bounds what a worker (or a token holder posing as one) can make it hold.
   */
  static final long MAX_RESULT_BYTES = 256L << 20;

  private ResultChunks() {}

  static int stage(Tx tx, StageLeasedResultChunkRequest req) throws SQLException {
    dev.conveyor.api.bounds.Bounds.range("chunk_count", req.getChunkCount(), 1, MAX_CHUNKS);
    dev.conveyor.api.bounds.Bounds.range("index", req.getIndex(), 0, req.getChunkCount() - 1);
    FileGroupResults.requireSuccessId(req.getResultId(), "result_id");
    Optional<byte[]> existing = tx.queryOne("SELECT data FROM capture_result_chunks WHERE job_id = ? AND result_id = ?"
        + " AND chunk_index = ?", rs -> rs.getBytes(1), req.getJobId(), req.getResultId(), req.getIndex());
    if (existing.isPresent()) {
      if (!Arrays.equals(existing.get(), req.getData().toByteArray())) {
        throw new dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException("chunk " + req.getIndex()
            + " of result " + req.getResultId() + " was staged before with different bytes");
      }
    } else {
      long staged = stagedBytes(tx, req.getJobId(), null);
      if (staged + req.getData().size() > MAX_RESULT_BYTES) {
        throw new dev.conveyor.api.bounds.InvalidField("data", "field 'data': job " + req.getJobId() + " would stage "
            + (staged + req.getData().size()) + " bytes of results; at most " + MAX_RESULT_BYTES + " are accepted");
      }
      tx.update("INSERT INTO capture_result_chunks (job_id, result_id, chunk_index, chunk_count, data, created_at)"
          + " VALUES (?, ?, ?, ?, ?, ?)", req.getJobId(), req.getResultId(), req.getIndex(), req.getChunkCount(),
          req.getData().toByteArray(), tx.nowMillis());
    }
    return (int) tx.queryLong("SELECT COUNT(*) FROM capture_result_chunks WHERE job_id = ? AND result_id = ?",
        req.getJobId(), req.getResultId());
  }

  /** The staged success, joined and checked against the digest and size the worker named. */
  static FileGroupSuccess assemble(Tx tx, String jobId, ChunkedSuccess c) throws SQLException {
    dev.conveyor.api.bounds.Bounds.range("size_bytes", c.getSizeBytes(), 1, MAX_RESULT_BYTES);
    List<Integer> indexes = tx.query("SELECT chunk_index FROM capture_result_chunks WHERE job_id = ? AND result_id = ?"
        + " ORDER BY chunk_index", rs -> rs.getInt(1), jobId, c.getResultId());
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < c.getChunkCount(); i++) {
      if (!indexes.contains(i)) {
        missing.add(i);
      }
    }
    if (!missing.isEmpty() || indexes.size() != c.getChunkCount()) {
      throw new IllegalArgumentException("chunked_success names " + c.getChunkCount() + " chunks of result "
          + c.getResultId() + ", but chunks " + missing + " are not staged (" + indexes.size() + " are)");
    }
    long staged = stagedBytes(tx, jobId, c.getResultId());
    if (staged != c.getSizeBytes()) { // checked before anything is loaded
      throw new IllegalArgumentException("the staged chunks of result " + c.getResultId() + " hold " + staged
          + " bytes, but chunked_success names " + c.getSizeBytes());
    }
    List<byte[]> pieces = tx.query("SELECT data FROM capture_result_chunks WHERE job_id = ? AND result_id = ?"
        + " ORDER BY chunk_index", rs -> rs.getBytes(1), jobId, c.getResultId());
    ByteArrayOutputStream joined = new ByteArrayOutputStream((int) staged);
    pieces.forEach(joined::writeBytes);
    byte[] bytes = joined.toByteArray();
    if (bytes.length != c.getSizeBytes() || !FileGroupResults.sha256(bytes).equals(c.getSha256())) {
      throw new IllegalArgumentException("the staged chunks of result " + c.getResultId() + " do not match"
          + " chunked_success (size " + bytes.length + " vs " + c.getSizeBytes() + ", or a different sha256)");
    }
    try {
      FileGroupSuccess success = FileGroupSuccess.parseFrom(bytes);
      if (!success.getResultId().equals(c.getResultId())) {
        throw new IllegalArgumentException("the staged success is result " + success.getResultId() + ", not "
            + c.getResultId());
      }
      return success;
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalArgumentException("the staged chunks of result " + c.getResultId()
          + " are not a FileGroupSuccess: " + e.getMessage());
    }
  }

  /** Bytes staged for {@code jobId} (for one result, or for all when {@code resultId} is null), without loading them. */
  private static long stagedBytes(Tx tx, String jobId, String resultId) throws SQLException {
    return resultId == null
        ? tx.queryLong("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM capture_result_chunks WHERE job_id = ?", jobId)
        : tx.queryLong("SELECT COALESCE(SUM(LENGTH(data)), 0) FROM capture_result_chunks WHERE job_id = ?"
            + " AND result_id = ?", jobId, resultId);
  }

  static void discard(Tx tx, String jobId, String resultId) throws SQLException {
    tx.update("DELETE FROM capture_result_chunks WHERE job_id = ? AND result_id = ?", jobId, resultId);
  }
}
