package dev.conveyor.submitqueue.build;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;

/** A build's output, stored in chunks as it runs, so a user can follow or inspect it from any node. */
public final class BuildLogs {
  private BuildLogs() {}

  public static void append(Tx tx, String jobId, String chunk) throws SQLException {
    tx.update("INSERT INTO sq_build_logs (job_id, seq, chunk, at) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1"
        + " FROM sq_build_logs WHERE job_id = ?), ?, ?)", jobId, jobId, chunk, tx.nowMillis());
  }

  public static String read(Tx tx, String jobId) throws SQLException {
    List<String> chunks = tx.query("SELECT chunk FROM sq_build_logs WHERE job_id = ? ORDER BY seq",
        rs -> rs.getString(1), jobId);
    return String.join("", chunks);
  }
}
