package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Ids;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.Outcomes.Enqueued;
import dev.conveyor.ledger.jobs.Outcomes.JobTree;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/** Enqueueing and reading jobs. */
final class JobQueue {
  private static final String INSERT = "INSERT INTO jobs (id, kind, state, execution_class, lane, lane_key,"
      + " pinned_executor, dedupe_key, parent_id, root_id, child_ordinal, payload, attempts, max_attempts, run_after,"
      + " cancel_requested, progress_done, progress_total, progress_failed, progress_bytes, created_at, updated_at,"
      + " version, after_siblings) VALUES (?, ?, 'QUEUED', ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, 0, 0, 0, 0, 0, ?, ?, 0, ?)"
      + " ON CONFLICT DO NOTHING";

  private JobQueue() {}

  /** Inserts a job; with a dedupe key that a live job of the same kind holds, returns that job instead. */
  static Enqueued enqueue(Tx tx, JobSpec spec, String parentId, String rootId, int ordinal) throws SQLException {
    String id = Ids.timeOrdered(tx.now());
    long now = tx.nowMillis();
    int inserted = tx.update(INSERT, id, spec.kind(), spec.executionClass(), spec.lane(), spec.laneKey(),
        spec.pinnedExecutorId(), spec.dedupeKey(), parentId, rootId == null ? id : rootId, ordinal, spec.payload(),
        spec.maxAttempts(), now + spec.delay().toMillis(), now, now, spec.afterSiblings() ? 1 : 0);
    if (!spec.delay().isZero()) {
      JobWakeups.announce(tx, spec.kind(), now + spec.delay().toMillis());
    }
    if (inserted == 1) {
      return new Enqueued(id, true);
    }
    if (spec.dedupeKey() == null) {
      throw new OptimisticConflictException("job id collision for " + id);
    }
    return tx.queryOne("SELECT id FROM jobs WHERE kind = ? AND dedupe_key = ? AND state NOT IN "
            + JobState.TERMINAL_SQL, rs -> new Enqueued(rs.getString(1), false), spec.kind(), spec.dedupeKey())
        // the live duplicate finished between our insert and this read: try again
        .orElseThrow(() -> new OptimisticConflictException("dedupe key " + spec.dedupeKey() + " changed hands"));
  }

  /**
   * Inserts {@code specs} as children of {@code parentId} with ordinals from {@code firstOrdinal}, in
   * one JDBC batch when none carries a dedupe key (a fan-out of thousands is one round trip).
   */
  static List<String> enqueueChildren(Tx tx, List<JobSpec> specs, String parentId, String rootId, int firstOrdinal)
      throws SQLException {
    List<String> ids = new ArrayList<>(specs.size());
    if (specs.stream().anyMatch(s -> s.dedupeKey() != null)) {
      for (int i = 0; i < specs.size(); i++) {
        ids.add(enqueue(tx, specs.get(i), parentId, rootId, firstOrdinal + i).jobId());
      }
      return ids;
    }
    long now = tx.nowMillis();
    List<Object[]> rows = new ArrayList<>(specs.size());
    for (int i = 0; i < specs.size(); i++) {
      JobSpec spec = specs.get(i);
      String id = Ids.timeOrdered(tx.now());
      ids.add(id);
      rows.add(new Object[] {id, spec.kind(), spec.executionClass(), spec.lane(), spec.laneKey(),
          spec.pinnedExecutorId(), null, parentId, rootId, firstOrdinal + i, spec.payload(), spec.maxAttempts(),
          now + spec.delay().toMillis(), now, now, spec.afterSiblings() ? 1 : 0});
      if (!spec.delay().isZero()) {
        JobWakeups.announce(tx, spec.kind(), now + spec.delay().toMillis());
      }
    }
    for (int count : tx.batch(INSERT, rows)) {
      if (count == 0) {
        throw new OptimisticConflictException("job id collision in a fan-out batch");
      }
    }
    return ids;
  }

  /** Filters for listing jobs, oldest first, paging by id. */
  record Query(Set<JobState> states, Set<JobKind> kinds, boolean rootsOnly, int limit, String afterId) {
    Query {
      states = states == null ? Set.of() : Set.copyOf(states);
      kinds = kinds == null ? Set.of() : Set.copyOf(kinds);
      if (limit < 1 || limit > 10_000) {
        throw new IllegalArgumentException("limit must be between 1 and 10000, got " + limit);
      }
    }
  }

  static List<Job> list(Tx tx, Query q) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT ").append(JobRows.COLUMNS).append(" FROM jobs WHERE 1 = 1");
    List<Object> args = new ArrayList<>();
    if (!q.states().isEmpty()) {
      sql.append(" AND state IN (").append(placeholders(q.states().size())).append(')');
      args.addAll(q.states());
    }
    if (!q.kinds().isEmpty()) {
      sql.append(" AND kind IN (").append(placeholders(q.kinds().size())).append(')');
      args.addAll(q.kinds());
    }
    if (q.rootsOnly()) {
      sql.append(" AND parent_id IS NULL");
    }
    if (q.afterId() != null) {
      sql.append(" AND id > ?");
      args.add(q.afterId());
    }
    sql.append(" ORDER BY id LIMIT ?");
    args.add(q.limit());
    return tx.query(sql.toString(), JobRows::map, args.toArray());
  }

  /** The job and all its descendants, children in the order they were planned. */
  static JobTree tree(Tx tx, String jobId) throws SQLException {
    Job top = JobRows.require(tx, jobId);
    List<Job> family = tx.query("SELECT " + JobRows.COLUMNS + " FROM jobs WHERE root_id = ?"
        + " ORDER BY child_ordinal, id", JobRows::map, top.rootId());
    Map<String, List<Job>> byParent = family.stream()
        .filter(j -> j.parentId() != null)
        .collect(Collectors.groupingBy(Job::parentId, HashMap::new, Collectors.toList()));
    return build(top, byParent);
  }

  private static JobTree build(Job job, Map<String, List<Job>> byParent) {
    List<JobTree> children = new ArrayList<>();
    for (Job child : byParent.getOrDefault(job.id(), List.of())) {
      children.add(build(child, byParent));
    }
    return new JobTree(job, List.copyOf(children));
  }

  static String placeholders(int n) {
    return String.join(", ", java.util.Collections.nCopies(n, "?"));
  }
}
