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
      tx.update("INSERT INTO capture_result_chunks (job_id, result_id, chunk_index, chunk_count, data, created_at)"
          + " VALUES (?, ?, ?, ?, ?, ?)", req.getJobId(), req.getResultId(), req.getIndex(), req.getChunkCount(),
          req.getData().toByteArray(), tx.nowMillis());
    }
    return (int) tx.queryLong("SELECT COUNT(*) FROM capture_result_chunks WHERE job_id = ? AND result_id = ?",
        req.getJobId(), req.getResultId());
  }

  /** The staged success, joined and checked against the digest and size the worker named. */
  static FileGroupSuccess assemble(Tx tx, String jobId, ChunkedSuccess c) throws SQLException {
    List<byte[]> pieces = tx.query("SELECT data FROM capture_result_chunks WHERE job_id = ? AND result_id = ?"
        + " ORDER BY chunk_index", rs -> rs.getBytes(1), jobId, c.getResultId());
    List<Integer> indexes = tx.query("SELECT chunk_index FROM capture_result_chunks WHERE job_id = ? AND result_id = ?"
        + " ORDER BY chunk_index", rs -> rs.getInt(1), jobId, c.getResultId());
    List<Integer> missing = new ArrayList<>();
    for (int i = 0; i < c.getChunkCount(); i++) {
      if (!indexes.contains(i)) {
        missing.add(i);
      }
    }
    if (!missing.isEmpty() || pieces.size() != c.getChunkCount()) {
      throw new IllegalArgumentException("chunked_success names " + c.getChunkCount() + " chunks of result "
          + c.getResultId() + ", but chunks " + missing + " are not staged (" + pieces.size() + " are)");
    }
    ByteArrayOutputStream joined = new ByteArrayOutputStream();
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

  static void discard(Tx tx, String jobId, String resultId) throws SQLException {
    tx.update("DELETE FROM capture_result_chunks WHERE job_id = ? AND result_id = ?", jobId, resultId);
  }
}
