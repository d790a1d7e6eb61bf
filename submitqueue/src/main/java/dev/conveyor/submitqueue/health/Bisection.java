package dev.conveyor.submitqueue.health;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Finds the change that turned the target red: a binary search over the changes landed since the last green
 * one, up to the first red one, judging each midpoint by its newest post-merge verdict and asking for a
 * verification of a midpoint that has none (a live check of it counts as asked: the job is deduplicated per
 * commit). Recomputed from the ledger on every verdict, so it keeps no state of its own, survives restarts
 * and converges as verdicts arrive: a search over n changes asks for about log2(n) checks beyond the landings'
 * own.
 */
public final class Bisection {
  /** The most landed changes one search reads after the last green one. */
  static final int MAX_COMMITS = 1000;

  /** Where a search stands. */
  public sealed interface Step {}

  /** No red change after the last green one: nothing to search. */
  public record Healthy(Optional<LandedCommits.Commit> lastGreen) implements Step {}

  /** The search waits for the verdict on {@code next}; {@code remaining} changes are still suspects. */
  public record Searching(LandedCommits.Commit next, int remaining) implements Step {}

  /**
   * The culprit: its change is red and the one before it, {@code lastGreen}, is green (empty: the base before
   * every recorded landing, assumed green). {@code gap}: commits the queue did not land (pushed directly, or
   * from a landing not recorded) lie between the two, so the culprit may be among them instead.
   */
  public record Found(LandedCommits.Commit culprit, String reason, Optional<String> lastGreen, boolean gap)
      implements Step {}

  private Bisection() {}

  /** Takes the search as far as known verdicts allow; asks {@code verify} for the next verdict it needs. */
  public static Step advance(Tx tx, String queue, Verify verify) throws SQLException {
    Optional<LandedCommits.Commit> green = lastGreen(tx, queue);
    List<Judged> after = judgedAfter(tx, queue, green.map(LandedCommits.Commit::landedSeq).orElse(-1L),
        green.map(LandedCommits.Commit::ord).orElse(-1));
    int hi = -1;
    for (int i = 0; i < after.size() && hi < 0; i++) {
      if ("RED".equals(after.get(i).state())) {
        hi = i;
      }
    }
    if (hi < 0) {
      return new Healthy(green);
    }
    int lo = -1; // the last green change (or the base before the first recorded landing)
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      String state = after.get(mid).state();
      if (state == null) {
        verify.verify(tx, after.get(mid).commit());
        return new Searching(after.get(mid).commit(), hi - lo - 1);
      }
      if (state.equals("GREEN")) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    LandedCommits.Commit culprit = after.get(hi).commit();
    Optional<String> before = lo >= 0 ? Optional.of(after.get(lo).commit().sha())
        : green.map(LandedCommits.Commit::sha);
    boolean gap = before.isPresent() && !before.get().equals(culprit.baseSha());
    return new Found(culprit, after.get(hi).reason(), before, gap);
  }

  /** Asks for the verdict on one change (a verification job, deduplicated per commit by the caller). */
  @FunctionalInterface
  public interface Verify {
    void verify(Tx tx, LandedCommits.Commit commit) throws SQLException;
  }

  /** A landed change with its newest verdict (state null: none yet). */
  private record Judged(LandedCommits.Commit commit, String state, String reason) {}

  private static final String NEWEST = "(SELECT m.%s FROM sq_main_checks m WHERE m.queue = c.queue AND m.sha = c.sha"
      + " ORDER BY m.checked_at DESC, m.check_id DESC LIMIT 1)";
  private static final String JUDGED = "SELECT c.landed_seq, c.ord, c.sha, c.base_sha, c.request_id, c.batch_id, "
      + NEWEST.formatted("state") + ", " + NEWEST.formatted("reason") + " FROM sq_landed_commits c WHERE c.queue = ?";

  private static Judged judged(java.sql.ResultSet rs) throws SQLException {
    return new Judged(new LandedCommits.Commit(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4),
        rs.getString(5), rs.getString(6)), rs.getString(7), rs.getString(8));
  }

  /** The queue's changes after position ({@code seq}, {@code ord}), oldest first, with their newest verdicts. */
  private static List<Judged> judgedAfter(Tx tx, String queue, long seq, int ord) throws SQLException {
    return tx.query(JUDGED + " AND (c.landed_seq > ? OR (c.landed_seq = ? AND c.ord > ?))"
        + " ORDER BY c.landed_seq, c.ord LIMIT ?", Bisection::judged, queue, seq, seq, ord, MAX_COMMITS);
  }

  /** The newest landed change whose newest verdict is green, among the newest {@link #MAX_COMMITS}. */
  public static Optional<LandedCommits.Commit> lastGreen(Tx tx, String queue) throws SQLException {
    for (Judged j : tx.query(JUDGED + " ORDER BY c.landed_seq DESC, c.ord DESC LIMIT ?", Bisection::judged, queue,
        MAX_COMMITS)) {
      if ("GREEN".equals(j.state())) {
        return Optional.of(j.commit());
      }
    }
    return Optional.empty();
  }

  /** Whether a change landed after {@code sha} (in the queue's landing order) already has a green verdict. */
  static boolean greenAfter(Tx tx, String queue, String sha) throws SQLException {
    Optional<LandedCommits.Commit> green = lastGreen(tx, queue);
    if (green.isEmpty()) {
      return false;
    }
    Optional<long[]> at = tx.queryOne("SELECT landed_seq, ord FROM sq_landed_commits WHERE queue = ? AND sha = ?"
        + " ORDER BY landed_seq DESC, ord DESC LIMIT 1", rs -> new long[] {rs.getLong(1), rs.getLong(2)}, queue, sha);
    return at.isPresent() && (green.get().landedSeq() > at.get()[0]
        || (green.get().landedSeq() == at.get()[0] && green.get().ord() > at.get()[1]));
  }
}
