package dev.conveyor.submitqueue.retention;

import dev.conveyor.ledger.maintenance.RetentionTask;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Retention of SubmitQueue's tables. What a user can still see stays: a live request, with its
 * history, its batch, that batch's paths, their builds and build output. Each kind of row goes once
 * it is finished, older than its own age, and nothing stored still refers to it:
 * <ul>
 *   <li>requests (with their history): terminal, and their batch (if any) is terminal or gone;
 *   <li>batches (with members and dependencies): terminal, no stored request names them, and no live
 *       batch depends on them;
 *   <li>paths: ended, and their batch is terminal or gone;
 *   <li>build logs: the build ended (or its job is gone), no output came for the age, and no path of
 *       a live batch names the build;
 *   <li>external builds and their checks: decided, staging ref removed, as old as build logs may be.
 * </ul>
 * Run them in the order {@link #tasks} gives, so one run cascades.
 */
public final class SubmitQueueRetention {
  private static final String REQUEST_TERMINAL = "('LANDED', 'ERROR', 'CANCELLED')";
  private static final String BATCH_TERMINAL = "('SUCCEEDED', 'FAILED', 'CANCELLED', 'SPLIT')";
  /** Build jobs to keep for {@code JobRetention}: those named by a path of a live batch. */
  public static final String JOBS_IN_USE = "SELECT p.job_id FROM sq_paths p JOIN sq_batches b ON b.batch_id = p.batch_id"
      + " WHERE p.job_id IS NOT NULL AND b.state NOT IN " + BATCH_TERMINAL;

  private SubmitQueueRetention() {}

  public static RetentionTask requests(Duration age) {
    return new KeyedRetention(age) {
      @Override
      public String name() {
        return "requests";
      }

      @Override
      String dueKeys() {
        return "SELECT r.request_id FROM sq_requests r WHERE r.state IN " + REQUEST_TERMINAL + " AND r.updated_at <= ?"
            + " AND NOT EXISTS (SELECT 1 FROM sq_batches b WHERE b.batch_id = r.batch_id AND b.state NOT IN "
            + BATCH_TERMINAL + ")";
      }

      @Override
      Map<String, String> tables() {
        return ordered("sq_request_log", "request_id", "sq_landed_commits", "request_id", "sq_requests", "request_id");
      }
    };
  }

  public static RetentionTask batches(Duration age) {
    return new KeyedRetention(age) {
      @Override
      public String name() {
        return "batches";
      }

      @Override
      String dueKeys() {
        return "SELECT b.batch_id FROM sq_batches b WHERE b.state IN " + BATCH_TERMINAL + " AND b.updated_at <= ?"
            + " AND NOT EXISTS (SELECT 1 FROM sq_requests r WHERE r.batch_id = b.batch_id)"
            + " AND NOT EXISTS (SELECT 1 FROM sq_batch_deps d JOIN sq_batches o ON o.batch_id = d.batch_id"
            + " WHERE d.depends_on = b.batch_id AND o.state NOT IN " + BATCH_TERMINAL + ")";
      }

      @Override
      Map<String, String> tables() {
        return ordered("sq_batch_members", "batch_id", "sq_batch_deps", "batch_id", "sq_batches", "batch_id");
      }
    };
  }

  public static RetentionTask paths(Duration age) {
    return new KeyedRetention(age) {
      @Override
      public String name() {
        return "paths";
      }

      @Override
      String dueKeys() {
        return "SELECT p.path_id FROM sq_paths p WHERE p.state <> 'BUILDING' AND p.updated_at <= ?"
            + " AND NOT EXISTS (SELECT 1 FROM sq_batches b WHERE b.batch_id = p.batch_id AND b.state NOT IN "
            + BATCH_TERMINAL + ")";
      }

      @Override
      Map<String, String> tables() {
        return ordered("sq_paths", "path_id");
      }
    };
  }

  /** Build output goes a build at a time (a build has a bounded number of chunks: head and tail). */
  public static RetentionTask buildLogs(Duration age) {
    return new KeyedRetention(age) {
      @Override
      public String name() {
        return "build-logs";
      }

      @Override
      String dueKeys() {
        return "SELECT DISTINCT l.job_id FROM sq_build_logs l WHERE l.at <= ?"
            + " AND NOT EXISTS (SELECT 1 FROM sq_build_logs n WHERE n.job_id = l.job_id AND n.at > ?)"
            + " AND NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = l.job_id AND j.state NOT IN"
            + " ('SUCCEEDED', 'FAILED', 'CANCELLED'))"
            + " AND l.job_id NOT IN (" + JOBS_IN_USE + ")";
      }

      @Override
      int cutoffs() {
        return 2;
      }

      @Override
      int keysPerBatch(int limit) {
        // head and tail of at most 256 KiB each are about 34 chunks; larger limits make more
        return Math.max(1, limit / 40);
      }

      @Override
      Map<String, String> tables() {
        return ordered("sq_build_logs", "job_id");
      }
    };
  }

  /**
   * External builds (with their reported checks) go with their build's output: decided, their staging ref
   * removed from the remote, untouched for the age, and no path of a live batch names the build.
   */
  public static RetentionTask ciBuilds(Duration age) {
    return new KeyedRetention(age) {
      @Override
      public String name() {
        return "ci-builds";
      }

      @Override
      String dueKeys() {
        return "SELECT c.build_id FROM sq_ci_builds c WHERE c.state NOT IN ('WAITING', 'STAGING') AND c.ref_removed = 1"
            + " AND c.updated_at <= ? AND c.build_id NOT IN (" + JOBS_IN_USE + ")";
      }

      @Override
      Map<String, String> tables() {
        return ordered("sq_ci_checks", "build_id", "sq_ci_builds", "build_id");
      }
    };
  }

  /**
   * Post-merge checks of the target: all but the newest of each state per queue (the current health and the
   * last green commit stay), once as old as build logs may be.
   */
  public static RetentionTask mainChecks(Duration age) {
    return new KeyedRetention(age) {
      @Override
      public String name() {
        return "main-checks";
      }

      @Override
      String dueKeys() {
        return "SELECT c.check_id FROM sq_main_checks c WHERE c.checked_at <= ? AND EXISTS (SELECT 1 FROM"
            + " sq_main_checks n WHERE n.queue = c.queue AND n.state = c.state AND n.checked_at > c.checked_at)";
      }

      @Override
      Map<String, String> tables() {
        return ordered("sq_main_checks", "check_id");
      }
    };
  }

  /** The four in cascade order: requests, batches, paths, build logs. */
  public static java.util.List<RetentionTask> tasks(Duration requests, Duration batches, Duration paths,
      Duration buildLogs) {
    return java.util.List.of(requests(requests), batches(batches), paths(paths), buildLogs(buildLogs));
  }

  private static Map<String, String> ordered(String... tableAndKey) {
    Map<String, String> out = new LinkedHashMap<>();
    for (int i = 0; i < tableAndKey.length; i += 2) {
      out.put(tableAndKey[i], tableAndKey[i + 1]);
    }
    return out;
  }
}
