package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.maintenance.RetentionTask;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Deletes finished job trees and their results: a tree goes once its root and every descendant are
 * terminal and the last of them finished longer than {@code age} ago, and no module still refers to
 * a job of it (each {@code keep} query, contributed by the module that owns the reference, selects
 * ids of jobs to keep — e.g. the builds of merge-queue paths still stored). A running tree's finished
 * children therefore stay with it. Leaves go first and the root last, so at every commit each
 * remaining job's parent and root still exist.
 */
public final class JobRetention implements RetentionTask {
  private static final String TERMINAL = JobState.TERMINAL_SQL;

  private final Duration age;
  private final List<String> keep;

  /** {@code keep}: SELECTs of one column, the ids of jobs whose trees must stay (no parameters). */
  public JobRetention(Duration age, List<String> keep) {
    this.age = age;
    this.keep = List.copyOf(keep);
    for (String q : this.keep) {
      if (!q.stripLeading().regionMatches(true, 0, "SELECT", 0, 6) || q.contains("?") || q.contains(";")) {
        throw new IllegalArgumentException("a keep query must be one SELECT without parameters: " + q);
      }
    }
  }

  @Override
  public String name() {
    return "jobs";
  }

  @Override
  public Duration age() {
    return age;
  }

  /**
   * Roots of trees due for deletion at {@code cutoff} (epoch ms), oldest first. On SQLite the scan names
   * the partial index of finished roots: without statistics SQLite took {@code (parent_id, state)} and
   * sorted every finished root for each batch, inside the write lock.
   */
  private String dueRoots(Dialect dialect, String select) {
    StringBuilder sql = new StringBuilder(select + " FROM jobs r" + dialect.scanUsing("jobs_finished_roots")
        + " WHERE r.parent_id IS NULL AND r.state IN " + TERMINAL
        + " AND r.finished_at <= ? AND NOT EXISTS (SELECT 1 FROM jobs d WHERE d.root_id = r.id AND (d.state NOT IN "
        + TERMINAL + " OR d.finished_at > ?))");
    for (String q : keep) {
      sql.append(" AND r.id NOT IN (").append(q).append(") AND NOT EXISTS (SELECT 1 FROM jobs k WHERE k.root_id = r.id"
          + " AND k.id IN (").append(q).append("))");
    }
    return sql.toString();
  }

  @Override
  public Map<String, Long> due(Tx tx, Instant now) throws SQLException {
    long cutoff = now.minus(age).toEpochMilli();
    String roots = dueRoots(tx.dialect(), "SELECT r.id");
    Map<String, Long> out = new TreeMap<>();
    out.put("jobs", tx.queryLong("SELECT COUNT(*) FROM jobs WHERE root_id IN (" + roots + ")", cutoff, cutoff));
    out.put("job_results", tx.queryLong("SELECT COUNT(*) FROM job_results WHERE job_id IN (SELECT id FROM jobs"
        + " WHERE root_id IN (" + roots + "))", cutoff, cutoff));
    return out;
  }

  @Override
  public void collect(Instant now, Batches batches) {
    long cutoff = now.minus(age).toEpochMilli();
    while (batches.run((tx, tally) -> batch(tx, tally, cutoff, batches.limit()))) {
      // each batch deletes up to the limit, tree by tree
    }
  }

  /** One batch's roots: parameters cutoff, cutoff, limit. */
  String batchSql(Dialect dialect) {
    return dueRoots(dialect, "SELECT r.id") + " ORDER BY r.finished_at, r.id LIMIT ?";
  }

  private boolean batch(Tx tx, Tally tally, long cutoff, int limit) throws SQLException {
    List<String> roots = tx.query(batchSql(tx.dialect()), rs -> rs.getString(1), cutoff, cutoff, limit);
    int budget = limit;
    for (String root : roots) {
      budget -= deleteTree(tx, tally, root, budget);
      if (budget <= 0) {
        return true;
      }
    }
    return roots.size() == limit;
  }

  /** Deletes up to {@code budget} jobs of the tree at {@code root}, leaves first; answers how many. */
  private static int deleteTree(Tx tx, Tally tally, String root, int budget) throws SQLException {
    int deleted = 0;
    while (deleted < budget) {
      List<String> leaves = tx.query("SELECT j.id FROM jobs j WHERE j.root_id = ? AND j.id <> ? AND NOT EXISTS"
          + " (SELECT 1 FROM jobs c WHERE c.parent_id = j.id) LIMIT ?", rs -> rs.getString(1), root, root,
          budget - deleted);
      if (leaves.isEmpty()) {
        delete(tx, tally, List.of(root)); // the tree is down to its root
        return deleted + 1;
      }
      delete(tx, tally, leaves);
      deleted += leaves.size();
    }
    return deleted;
  }

  private static void delete(Tx tx, Tally tally, List<String> ids) throws SQLException {
    for (List<String> part : partition(ids, 500)) {
      String in = String.join(", ", Collections.nCopies(part.size(), "?"));
      tally.deleted("job_results", tx.update("DELETE FROM job_results WHERE job_id IN (" + in + ")", part.toArray()));
      tally.deleted("job_fanout_batches", tx.update("DELETE FROM job_fanout_batches WHERE parent_id IN (" + in + ")",
          part.toArray()));
      tally.deleted("jobs", tx.update("DELETE FROM jobs WHERE id IN (" + in + ")", part.toArray()));
    }
  }

  private static List<List<String>> partition(List<String> ids, int size) {
    List<List<String>> out = new ArrayList<>();
    for (int i = 0; i < ids.size(); i += size) {
      out.add(ids.subList(i, Math.min(ids.size(), i + size)));
    }
    return out;
  }
}
