package dev.conveyor.submitqueue.ci;

import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.ci.CiBuild.CheckReport;
import dev.conveyor.submitqueue.ci.CiBuild.State;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * External builds and their reported checks, in the caller's transaction. SQL it issues: one insert
 * per staged build; a report is one read of the build, one insert of the check and, when that decides
 * the build, one conditional update of its state; the sweeper reads builds whose job ended and builds
 * whose staging ref is still on the remote (each bounded by a limit).
 */
public final class CiBuilds {
  private static final String COLUMNS = "build_id, queue, path_id, staging_ref, sha, checks, state, reason,"
      + " ref_removed, deadline_at, created_at";

  private CiBuilds() {}

  /**
   * Records a build about to be pushed to its staging ref (STAGING, commit {@code sha}); a build staged
   * before by an earlier lease of the same job gets the new commit.
   */
  public static void staging(Tx tx, String buildId, String queue, String pathId, String ref, String sha,
      List<String> checks, Instant deadline) throws SQLException {
    long now = tx.nowMillis();
    if (tx.update("UPDATE sq_ci_builds SET sha = ?, staging_ref = ?, checks = ?, deadline_at = ?, updated_at = ?"
        + " WHERE build_id = ? AND state = 'STAGING'", sha, ref, String.join(",", checks), deadline.toEpochMilli(),
        now, buildId) == 1) {
      return;
    }
    tx.update("INSERT INTO sq_ci_builds (build_id, queue, path_id, staging_ref, sha, checks, state, reason,"
        + " ref_removed, deadline_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'STAGING', NULL, 0, ?, ?, ?)",
        buildId, queue, pathId, ref, sha, String.join(",", checks), deadline.toEpochMilli(), now, now);
  }

  /** The staging ref is pushed: the build waits for CI until {@code deadline}. */
  public static boolean waiting(Tx tx, String buildId, Instant deadline) throws SQLException {
    return tx.update("UPDATE sq_ci_builds SET state = 'WAITING', deadline_at = ?, updated_at = ? WHERE build_id = ?"
        + " AND state = 'STAGING'", deadline.toEpochMilli(), tx.nowMillis(), buildId) == 1;
  }

  /**
   * Locks the build's row for the rest of the transaction (a no-op update: PostgreSQL holds the row lock,
   * SQLite one writer), so reports, the deadline and the sweeper decide one after another, each reading
   * what the one before committed; false when there is no such build.
   */
  public static boolean lock(Tx tx, String buildId) throws SQLException {
    return tx.update("UPDATE sq_ci_builds SET updated_at = updated_at WHERE build_id = ?", buildId) == 1;
  }

  public static Optional<CiBuild> find(Tx tx, String buildId) throws SQLException {
    Optional<CiBuild> row = tx.queryOne("SELECT " + COLUMNS + " FROM sq_ci_builds WHERE build_id = ?",
        CiBuilds::row, buildId);
    if (row.isEmpty()) {
      return row;
    }
    return Optional.of(withReports(row.get(), reports(tx, buildId)));
  }

  /** Builds waiting for verdicts, oldest first; all queues when {@code queue} is null. */
  public static List<CiBuild> waiting(Tx tx, String queue, int limit) throws SQLException {
    List<CiBuild> rows = queue == null
        ? tx.query("SELECT " + COLUMNS + " FROM sq_ci_builds WHERE state = 'WAITING' ORDER BY created_at, build_id"
            + " LIMIT ?", CiBuilds::row, limit)
        : tx.query("SELECT " + COLUMNS + " FROM sq_ci_builds WHERE queue = ? AND state = 'WAITING'"
            + " ORDER BY created_at, build_id LIMIT ?", CiBuilds::row, queue, limit);
    List<CiBuild> out = new ArrayList<>(rows.size());
    for (CiBuild b : rows) {
      out.add(withReports(b, reports(tx, b.buildId())));
    }
    return out;
  }

  /** Records a check's verdict (replacing none: a check is reported once). */
  static void insertReport(Tx tx, String buildId, String check, boolean passed, String url, String by)
      throws SQLException {
    tx.update("INSERT INTO sq_ci_checks (build_id, check_name, passed, url, reported_by, reported_at)"
        + " VALUES (?, ?, ?, ?, ?, ?)", buildId, check, passed ? 1 : 0, url, by, tx.nowMillis());
  }

  /** Moves a WAITING (or, for ENDED, a STAGING) build to {@code to}; false when it was decided already. */
  public static boolean decide(Tx tx, String buildId, State to, String reason) throws SQLException {
    return tx.update("UPDATE sq_ci_builds SET state = ?, reason = ?, updated_at = ? WHERE build_id = ?"
        + " AND state IN ('WAITING', 'STAGING')", to.name(), reason, tx.nowMillis(), buildId) == 1;
  }

  /** Puts a build whose ref could not be removed at the back of the sweeper's line. */
  static void later(Tx tx, String buildId) throws SQLException {
    tx.update("UPDATE sq_ci_builds SET updated_at = ? WHERE build_id = ?", tx.nowMillis(), buildId);
  }

  /** Notes that the build's staging ref is gone from the remote. */
  public static void refRemoved(Tx tx, String buildId) throws SQLException {
    tx.update("UPDATE sq_ci_builds SET ref_removed = 1, updated_at = ? WHERE build_id = ?", tx.nowMillis(), buildId);
  }

  /** Staging or waiting builds whose BUILD job ended without a verdict (cancelled, preempted, gone). */
  static List<String> orphaned(Tx tx, int limit) throws SQLException {
    return tx.query("SELECT c.build_id FROM sq_ci_builds c WHERE c.state IN ('WAITING', 'STAGING') AND NOT EXISTS"
        + " (SELECT 1 FROM jobs j WHERE j.id = c.build_id AND j.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED'))"
        + " ORDER BY c.created_at LIMIT ?", rs -> rs.getString(1), limit);
  }

  /** Decided builds of {@code queues} whose staging ref may still be on the remote. */
  static List<CiBuild> refsToRemove(Tx tx, java.util.Collection<String> queues, int limit) throws SQLException {
    if (queues.isEmpty()) {
      return List.of();
    }
    List<Object> args = new ArrayList<>(queues);
    args.add(limit);
    return tx.query("SELECT " + COLUMNS + " FROM sq_ci_builds WHERE state NOT IN ('WAITING', 'STAGING')"
        + " AND ref_removed = 0"
        + " AND queue IN (" + String.join(", ", java.util.Collections.nCopies(queues.size(), "?")) + ")"
        + " ORDER BY updated_at LIMIT ?", CiBuilds::row, args.toArray());
  }

  private static List<CheckReport> reports(Tx tx, String buildId) throws SQLException {
    return tx.query("SELECT check_name, passed, url, reported_by, reported_at FROM sq_ci_checks WHERE build_id = ?"
        + " ORDER BY reported_at, check_name", rs -> new CheckReport(rs.getString(1), rs.getInt(2) == 1,
        rs.getString(3), rs.getString(4), Instant.ofEpochMilli(rs.getLong(5))), buildId);
  }

  private static CiBuild withReports(CiBuild b, List<CheckReport> reports) {
    return new CiBuild(b.buildId(), b.queue(), b.pathId(), b.stagingRef(), b.sha(), b.requiredChecks(), b.state(),
        b.reason(), b.refRemoved(), b.deadline(), b.createdAt(), reports);
  }

  private static CiBuild row(ResultSet rs) throws SQLException {
    return new CiBuild(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getString(5),
        Arrays.asList(rs.getString(6).split(",")), State.valueOf(rs.getString(7)), rs.getString(8),
        rs.getInt(9) == 1, Instant.ofEpochMilli(rs.getLong(10)), Instant.ofEpochMilli(rs.getLong(11)), List.of());
  }

  /**
   * A remote URL without a password or query it may carry (what CI is told is never a secret); a URL that
   * does not parse is not shown at all.
   */
  public static String remoteShown(String url) {
    if (!url.contains("://")) {
      return url; // a path, or user@host:path (no password can be written there)
    }
    try {
      java.net.URI u = new java.net.URI(url);
      String user = u.getScheme().startsWith("ssh") && u.getUserInfo() != null && !u.getUserInfo().contains(":")
          ? u.getUserInfo() : null; // ssh://git@host names an account, not a secret
      return new java.net.URI(u.getScheme(), user, u.getHost(), u.getPort(), u.getPath(), null, null).toString();
    } catch (java.net.URISyntaxException | RuntimeException e) {
      return "";
    }
  }
}
