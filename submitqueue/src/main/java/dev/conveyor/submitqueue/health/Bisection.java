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
 * own. The green and red ends are found from the verdicts (few, kept by retention), never by scanning history;
 * the search covers at most {@link #MAX_COMMITS} changes ending at the first red one.
 */
public final class Bisection {
  /** The most landed changes one search covers, ending at the first red one. */
  static final int MAX_COMMITS = 1000;
  /** Verdicts of one state read to find an end (a commit judged several times counts once per verdict). */
  private static final int ENDS = 200;

  /** Where a search stands. */
  public sealed interface Step {}

  /** No red change after the last green one: nothing to search. */
  public record Healthy(Optional<LandedCommits.Commit> lastGreen) implements Step {}

  /** The search waits for the verdict on {@code next}; {@code remaining} changes are still suspects. */
  public record Searching(LandedCommits.Commit next, int remaining) implements Step {}

  /**
   * The culprit: its change is red and the one before it, {@code lastGreen}, is green (empty: assumed green,
   * nothing before it was judged within reach; {@code assumed} says so). {@code gap}: commits the queue did not
   * land (pushed directly, or from a landing not recorded) lie between the two, so the culprit may be among
   * them instead.
   */
  public record Found(LandedCommits.Commit culprit, String reason, Optional<String> lastGreen, boolean assumed,
      boolean gap) implements Step {}

  private Bisection() {}

  /** Takes the search as far as known verdicts allow; asks {@code verify} for the next verdict it needs. */
  public static Step advance(Tx tx, String queue, Optional<LandedCommits.Commit> green, Verify verify)
      throws SQLException {
    Optional<LandedCommits.Commit> red = firstRedAfter(tx, queue, green);
    if (red.isEmpty()) {
      return new Healthy(green);
    }
    // the window: the changes after the last green one up to the first red, at most MAX_COMMITS ending at it
    List<Judged> window = tx.query(JUDGED + " AND " + after("c", green) + " AND (c.landed_seq < ? OR (c.landed_seq = ?"
        + " AND c.ord <= ?)) ORDER BY c.landed_seq DESC, c.ord DESC LIMIT ?", Bisection::judged,
        args(queue, green, red.get().landedSeq(), red.get().landedSeq(), red.get().ord(), MAX_COMMITS));
    java.util.Collections.reverse(window);
    boolean assumed = green.isEmpty() || window.size() == MAX_COMMITS;
    int lo = -1; // the last green change, or the one before the window (assumed green)
    int hi = window.size() - 1;
    while (hi - lo > 1) {
      int mid = (lo + hi) >>> 1;
      String state = window.get(mid).state();
      if (state == null) {
        verify.verify(tx, window.get(mid).commit());
        return new Searching(window.get(mid).commit(), hi - lo - 1);
      }
      if (state.equals("GREEN")) {
        lo = mid;
        assumed = false;
      } else {
        hi = mid;
      }
    }
    LandedCommits.Commit culprit = window.get(hi).commit();
    Optional<String> before = lo >= 0 ? Optional.of(window.get(lo).commit().sha())
        : assumed ? Optional.empty() : green.map(LandedCommits.Commit::sha);
    boolean gap = before.isPresent() && !culprit.baseSha().isEmpty() && !before.get().equals(culprit.baseSha());
    return new Found(culprit, window.get(hi).reason(), before, assumed, gap);
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
  /** Landed changes that have a verdict of the given state (the newest verdict decides, checked in Java). */
  private static final String WITH_VERDICT = "SELECT c.landed_seq, c.ord, c.sha, c.base_sha, c.request_id,"
      + " c.batch_id, " + NEWEST.formatted("state") + ", " + NEWEST.formatted("reason") + " FROM sq_main_checks v"
      + " JOIN sq_landed_commits c ON c.queue = v.queue AND c.sha = v.sha WHERE v.queue = ? AND v.state = ?";

  private static Judged judged(java.sql.ResultSet rs) throws SQLException {
    return new Judged(new LandedCommits.Commit(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4),
        rs.getString(5), rs.getString(6)), rs.getString(7), rs.getString(8));
  }

  private static String after(String alias, Optional<LandedCommits.Commit> green) {
    return green.isEmpty() ? "1 = 1" : "(" + alias + ".landed_seq > ? OR (" + alias + ".landed_seq = ? AND " + alias
        + ".ord > ?))";
  }

  private static Object[] args(String queue, Optional<LandedCommits.Commit> green, Object... more) {
    List<Object> out = new java.util.ArrayList<>();
    out.add(queue);
    green.ifPresent(g -> {
      out.add(g.landedSeq());
      out.add(g.landedSeq());
      out.add(g.ord());
    });
    out.addAll(java.util.Arrays.asList(more));
    return out.toArray();
  }

  /** The newest landed change whose newest verdict is green. */
  public static Optional<LandedCommits.Commit> lastGreen(Tx tx, String queue) throws SQLException {
    for (Judged j : tx.query(WITH_VERDICT + " ORDER BY c.landed_seq DESC, c.ord DESC LIMIT ?", Bisection::judged,
        queue, "GREEN", ENDS)) {
      if ("GREEN".equals(j.state())) {
        return Optional.of(j.commit());
      }
    }
    return Optional.empty();
  }

  /** The first landed change after {@code green} whose newest verdict is red. */
  private static Optional<LandedCommits.Commit> firstRedAfter(Tx tx, String queue,
      Optional<LandedCommits.Commit> green) throws SQLException {
    Object[] args = new Object[green.isPresent() ? 6 : 3];
    args[0] = queue;
    args[1] = "RED";
    if (green.isPresent()) {
      args[2] = green.get().landedSeq();
      args[3] = green.get().landedSeq();
      args[4] = green.get().ord();
    }
    args[args.length - 1] = ENDS;
    for (Judged j : tx.query(WITH_VERDICT + " AND " + after("c", green) + " ORDER BY c.landed_seq, c.ord LIMIT ?",
        Bisection::judged, args)) {
      if ("RED".equals(j.state())) {
        return Optional.of(j.commit());
      }
    }
    return Optional.empty();
  }

  /** Whether {@code green} (the last green change) landed after {@code sha}: main recovered since. */
  static boolean greenAfter(Tx tx, String queue, String sha, Optional<LandedCommits.Commit> green)
      throws SQLException {
    if (green.isEmpty()) {
      return false;
    }
    Optional<long[]> at = tx.queryOne("SELECT landed_seq, ord FROM sq_landed_commits WHERE queue = ? AND sha = ?"
        + " ORDER BY landed_seq DESC, ord DESC LIMIT 1", rs -> new long[] {rs.getLong(1), rs.getLong(2)}, queue, sha);
    return at.isPresent() && (green.get().landedSeq() > at.get()[0]
        || (green.get().landedSeq() == at.get()[0] && green.get().ord() > at.get()[1]));
  }
}
