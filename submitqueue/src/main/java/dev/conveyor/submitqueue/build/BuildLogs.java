package dev.conveyor.submitqueue.build;

import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobState;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * A build's output in the ledger (secret values already masked), so a user with the role can follow
 * or inspect it from any node. Only its head and its tail are kept ({@link LogLimits}): each stored
 * chunk knows its offset in the whole output, the tail's oldest chunks are cut as new output comes,
 * and the gap between head and tail is what was dropped — a reader landing in it is told how much and
 * moves on to the tail. Offsets count characters (Unicode code points), as the databases' LENGTH
 * does. Chunks hold at most {@link #CHUNK} characters and short ones are extended, so a build has a
 * bounded number of rows; reads fetch only the chunks a page covers.
 */
public final class BuildLogs {
  /** Most characters in one stored chunk. */
  static final int CHUNK = 16 << 10;

  private BuildLogs() {}

  /** A slice of a build's output; {@code finished} once the build has ended and no more will come. */
  public record Page(String text, long offset, long nextOffset, long total, boolean finished) {}

  private record Chunk(long seq, long start, long length) {
    long end() {
      return start + length;
    }
  }

  /** Stores what a drain of the build's output produced (head text, skipped characters, tail text). */
  static void append(Tx tx, String jobId, BuildOutput.Drained drained, LogLimits limits) throws SQLException {
    if (drained.isEmpty()) {
      return;
    }
    Optional<Chunk> last = last(tx, jobId);
    long pos = last.map(Chunk::end).orElse(0L);
    pos = write(tx, jobId, drained.head(), pos, limits);
    pos += drained.skipped();
    pos = write(tx, jobId, drained.tail(), pos, limits);
    trimTail(tx, jobId, pos, limits);
  }

  /** Appends {@code text} at logical offset {@code pos}: head characters while the head has room, the rest as tail. */
  private static long write(Tx tx, String jobId, String text, long pos, LogLimits limits) throws SQLException {
    int n = text.codePointCount(0, text.length());
    int i = 0; // in code points
    while (i < n) {
      long room = pos < limits.head() ? limits.head() - pos : Long.MAX_VALUE; // a piece never crosses the head's end
      Optional<Chunk> last = last(tx, jobId);
      boolean extend = last.isPresent() && last.get().end() == pos && last.get().length() < CHUNK
          && (last.get().start() < limits.head()) == (pos < limits.head());
      long fits = Math.min(room, extend ? CHUNK - last.get().length() : CHUNK);
      int k = (int) Math.min(fits, n - i);
      String piece = slice(text, i, k);
      if (extend) {
        tx.update("UPDATE sq_build_logs SET chunk = chunk || ?, at = ? WHERE job_id = ? AND seq = ?", piece,
            tx.nowMillis(), jobId, last.get().seq());
      } else {
        tx.update("INSERT INTO sq_build_logs (job_id, seq, chunk, at, start_offset) VALUES (?, ?, ?, ?, ?)", jobId,
            last.map(Chunk::seq).orElse(0L) + 1, piece, tx.nowMillis(), pos);
      }
      i += k;
      pos += k;
    }
    return pos;
  }

  /** Keeps the last {@code tail} characters after the head: older tail chunks go, the straddling one is cut. */
  private static void trimTail(Tx tx, String jobId, long end, LogLimits limits) throws SQLException {
    long keepFrom = Math.max(limits.head(), end - limits.tail());
    tx.update("DELETE FROM sq_build_logs WHERE job_id = ? AND start_offset >= ? AND start_offset + LENGTH(chunk) <= ?",
        jobId, limits.head(), keepFrom);
    tx.update("UPDATE sq_build_logs SET chunk = SUBSTR(chunk, CAST(? - start_offset + 1 AS INTEGER)), start_offset = ?"
        + " WHERE job_id = ? AND start_offset >= ? AND start_offset < ? AND start_offset + LENGTH(chunk) > ?",
        keepFrom, keepFrom, jobId, limits.head(), keepFrom, keepFrom);
  }

  private static Optional<Chunk> last(Tx tx, String jobId) throws SQLException {
    return tx.queryOne("SELECT seq, start_offset, LENGTH(chunk) FROM sq_build_logs WHERE job_id = ?"
        + " ORDER BY seq DESC LIMIT 1", rs -> new Chunk(rs.getLong(1), rs.getLong(2), rs.getLong(3)), jobId);
  }

  /**
   * Up to {@code limit} characters from {@code offset} of build {@code jobId}'s output, or empty when
   * there is no such build (nor output of one). A page that starts in the dropped middle holds only a
   * line saying how much was dropped, and its next offset is where the kept tail begins.
   */
  public static Optional<Page> page(Tx tx, String jobId, long offset, int limit) throws SQLException {
    Optional<String> state = tx.queryOne("SELECT state FROM jobs WHERE id = ? AND kind = 'BUILD'",
        rs -> rs.getString(1), jobId);
    List<Chunk> chunks = tx.query("SELECT seq, start_offset, LENGTH(chunk) FROM sq_build_logs WHERE job_id = ?"
        + " ORDER BY seq", rs -> new Chunk(rs.getLong(1), rs.getLong(2), rs.getLong(3)), jobId);
    if (state.isEmpty() && chunks.isEmpty()) {
      return Optional.empty();
    }
    // a build whose job was already collected by retention has ended, and its output stays readable
    boolean finished = state.isEmpty() || JobState.parse(state.get()).isTerminal();
    long total = chunks.isEmpty() ? 0 : chunks.get(chunks.size() - 1).end();
    long start = Math.min(offset, total);
    Chunk first = chunks.stream().filter(c -> c.end() > start).findFirst().orElse(null);
    if (first == null || limit <= 0) {
      return Optional.of(new Page("", start, start, total, finished));
    }
    if (first.start() > start) {
      return Optional.of(new Page(dropped(first.start() - start), start, first.start(), total, finished));
    }
    long end = start;
    long lastSeq = first.seq();
    for (Chunk c : chunks) {
      if (c.seq() < first.seq()) {
        continue;
      }
      if (c.start() > end || end >= start + limit) {
        break; // a gap: the next page tells about it
      }
      end = Math.min(c.end(), start + limit);
      lastSeq = c.seq();
    }
    String text = String.join("", tx.query("SELECT chunk FROM sq_build_logs WHERE job_id = ? AND seq >= ?"
        + " AND seq <= ? ORDER BY seq", rs -> rs.getString(1), jobId, first.seq(), lastSeq));
    return Optional.of(new Page(slice(text, (int) (start - first.start()), (int) (end - start)), start, end, total,
        finished));
  }

  /** The line a reader sees in place of the dropped middle. */
  static String dropped(long characters) {
    return "\n[conveyor: " + characters + " characters of output were dropped here; the ledger keeps the head and"
        + " the tail of a build's output (build-log-head, build-log-tail)]\n";
  }

  /** {@code count} code points of {@code text} from code point {@code from} (clamped to the text). */
  private static String slice(String text, int from, int count) {
    int b = text.offsetByCodePoints(0, Math.min(from, text.codePointCount(0, text.length())));
    int rest = text.codePointCount(b, text.length());
    int e = text.offsetByCodePoints(b, Math.min(count, rest));
    return text.substring(b, e);
  }
}
