package dev.conveyor.submitqueue.health;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;
import java.util.Optional;

/**
 * Finds the change that turned the target red: a binary search over the commits landed since the last green
 * one, up to the first known red one, judging each midpoint by its post-merge verdict and asking for a
 * verification of a midpoint nobody has judged yet. Recomputed from the ledger on every verdict, so it needs
 * no state of its own, survives restarts and converges as verdicts arrive (a commit's verdict is known once;
 * a search of n commits asks for about log2(n) verifications beyond the landings' own checks).
 */
public final class Bisection {
  /** The most commits one search considers: the newest ones before the first red. */
  static final int MAX_COMMITS = 256;

  /** Where a search stands. */
  public sealed interface Step {}

  /** No red commit after the last green one: nothing to search. */
  public record Healthy() implements Step {}

  /** The search waits for the verdict on {@code next}; {@code remaining} commits are still suspects. */
  public record Searching(LandedCommits.Commit next, int remaining) implements Step {}

  /**
   * The culprit: its commit is red and the one before it, {@code lastGreen}, is green (empty: the base before
   * every recorded landing, assumed green).
   */
  public record Found(LandedCommits.Commit culprit, String reason, Optional<String> lastGreen) implements Step {}

  private Bisection() {}

  /** Takes the search as far as known verdicts allow; asks {@code verify} for the next verdict it needs. */
  public static Step advance(Tx tx, String queue, Verify verify) throws SQLException {
    Optional<LandedCommits.Commit> green = lastGreen(tx, queue);
    List<LandedCommits.Commit> after = LandedCommits.after(tx, queue, green.map(LandedCommits.Commit::landedSeq)
        .orElse(-1L), green.map(LandedCommits.Commit::ord).orElse(-1), MAX_COMMITS);
    int hi = -1;
    for (int i = 0; i < after.size() && hi < 0; i++) {
      if (verdict(tx, queue, after.get(i).sha()).filter(v -> !v.green()).isPresent()) {
        hi = i;
      }
    }
    if (hi < 0) {
      return new Healthy();
    }
    int lo = -1; // the last green commit (or the base before the first recorded landing)
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      Optional<Verdict> v = verdict(tx, queue, after.get(mid).sha());
      if (v.isEmpty()) {
        verify.verify(tx, after.get(mid));
        return new Searching(after.get(mid), hi - lo - 1);
      }
      if (v.get().green()) {
        lo = mid;
      } else {
        hi = mid;
      }
    }
    LandedCommits.Commit culprit = after.get(hi);
    String reason = verdict(tx, queue, culprit.sha()).map(Verdict::reason).orElse("");
    Optional<String> before = lo >= 0 ? Optional.of(after.get(lo).sha()) : green.map(LandedCommits.Commit::sha);
    return new Found(culprit, reason, before);
  }

  /** Asks for the verdict on one commit (a verification job, deduplicated by the caller). */
  @FunctionalInterface
  public interface Verify {
    void verify(Tx tx, LandedCommits.Commit commit) throws SQLException;
  }

  private record Verdict(boolean green, String reason) {}

  /** The newest verdict on {@code sha} in the queue, if it was checked. */
  private static Optional<Verdict> verdict(Tx tx, String queue, String sha) throws SQLException {
    return tx.queryOne("SELECT state, reason FROM sq_main_checks WHERE queue = ? AND sha = ?"
        + " ORDER BY checked_at DESC, check_id DESC LIMIT 1", rs -> new Verdict("GREEN".equals(rs.getString(1)),
        rs.getString(2)), queue, sha);
  }

  /** The newest landed commit, in landing order, with a green verdict. */
  private static Optional<LandedCommits.Commit> lastGreen(Tx tx, String queue) throws SQLException {
    return tx.queryOne("SELECT c.landed_seq, c.ord, c.sha, c.request_id, c.batch_id FROM sq_landed_commits c"
        + " WHERE c.queue = ? AND EXISTS (SELECT 1 FROM sq_main_checks m WHERE m.queue = c.queue AND m.sha = c.sha"
        + " AND m.state = 'GREEN') ORDER BY c.landed_seq DESC, c.ord DESC LIMIT 1",
        rs -> new LandedCommits.Commit(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4),
            rs.getString(5)), queue);
  }
}
