package dev.conveyor.submitqueue.build;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * A build's output, stored in chunks as it runs (secret values already masked), so a user with the
 * role can follow or inspect it from any node. Offsets count characters (Unicode code points), as
 * the databases' LENGTH does.
 */
public final class BuildLogs {
  private BuildLogs() {}

  /** A slice of a build's output; {@code finished} once the build has ended and no more will come. */
  public record Page(String text, long offset, long nextOffset, long total, boolean finished) {}

  public static void append(Tx tx, String jobId, String chunk) throws SQLException {
    tx.update("INSERT INTO sq_build_logs (job_id, seq, chunk, at) VALUES (?, (SELECT COALESCE(MAX(seq), 0) + 1"
        + " FROM sq_build_logs WHERE job_id = ?), ?, ?)", jobId, jobId, chunk, tx.nowMillis());
  }

  public static String read(Tx tx, String jobId) throws SQLException {
    List<String> chunks = tx.query("SELECT chunk FROM sq_build_logs WHERE job_id = ? ORDER BY seq",
        rs -> rs.getString(1), jobId);
    return String.join("", chunks);
  }

  /**
   * Up to {@code limit} characters from {@code offset} of build {@code jobId}'s output, or empty
   * when no build has that id. Reads only the chunks the page covers.
   */
  public static Optional<Page> page(Tx tx, String jobId, long offset, int limit) throws SQLException {
    Optional<String> state = tx.queryOne("SELECT state FROM jobs WHERE id = ? AND kind = 'BUILD'",
        rs -> rs.getString(1), jobId);
    if (state.isEmpty()) {
      return Optional.empty();
    }
    boolean finished = dev.conveyor.ledger.jobs.JobState.parse(state.get()).isTerminal();
    List<long[]> lengths = tx.query("SELECT seq, LENGTH(chunk) FROM sq_build_logs WHERE job_id = ? ORDER BY seq",
        rs -> new long[] {rs.getLong(1), rs.getLong(2)}, jobId);
    long total = lengths.stream().mapToLong(l -> l[1]).sum();
    long start = Math.min(offset, total);
    long end = Math.min(total, start + limit);
    if (start == end) {
      return Optional.of(new Page("", start, start, total, finished));
    }
    long firstSeq = -1;
    long lastSeq = -1;
    long firstAt = 0;
    long at = 0;
    for (long[] l : lengths) {
      if (firstSeq < 0 && at + l[1] > start) {
        firstSeq = l[0];
        firstAt = at;
      }
      if (at < end) {
        lastSeq = l[0];
      }
      at += l[1];
    }
    String text = String.join("", tx.query("SELECT chunk FROM sq_build_logs WHERE job_id = ? AND seq >= ?"
        + " AND seq <= ? ORDER BY seq", rs -> rs.getString(1), jobId, firstSeq, lastSeq));
    int from = advance(text, 0, start - firstAt);
    int to = advance(text, from, end - start);
    return Optional.of(new Page(text.substring(from, to), start, end, total, finished));
  }

  /** The index {@code codePoints} code points after {@code index}, at most the text's end. */
  private static int advance(String text, int index, long codePoints) {
    int i = index;
    for (long n = 0; n < codePoints && i < text.length(); n++) {
      i += Character.charCount(text.codePointAt(i));
    }
    return Math.min(i, text.length());
  }
}
