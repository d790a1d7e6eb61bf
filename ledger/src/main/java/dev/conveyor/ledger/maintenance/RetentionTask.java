package dev.conveyor.ledger.maintenance;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;

/**
 * What one module deletes from its own tables once rows are older than their age and nothing that
 * is still visible refers to them. The module owns the rules; the {@link Maintenance} leader only
 * schedules, fences and counts. Deletion happens in bounded batches, each its own transaction, so a
 * run interrupted anywhere leaves a consistent ledger and the next run goes on where it stopped.
 */
public interface RetentionTask {
  /** What the task collects, as reports and {@code conveyor admin retention} name it ({@code jobs}). */
  String name();

  /** How old a row must be before it is collected. */
  Duration age();

  /** The rows due at {@code now}, per table, without deleting anything (a dry run). */
  Map<String, Long> due(Tx tx, Instant now) throws SQLException;

  /** Deletes what is due at {@code now}, each batch through {@link Batches#run}. */
  void collect(Instant now, Batches batches);

  /**
   * Collects everything due now, outside maintenance (tests, tools): every batch of at most {@code batch} rows
   * in a transaction of its own, unfenced; answers how many rows went.
   */
  static long collectNow(dev.conveyor.ledger.Ledger ledger, RetentionTask task, int batch) {
    java.util.concurrent.atomic.AtomicLong deleted = new java.util.concurrent.atomic.AtomicLong();
    Instant now = ledger.transact(dev.conveyor.ledger.Tx::now);
    task.collect(now, new Batches() {
      @Override
      public int limit() {
        return batch;
      }

      @Override
      public boolean run(Batch work) {
        return ledger.transact(tx -> {
          Tally tally = new Tally();
          boolean more = work.run(tx, tally);
          tx.afterCommit(() -> deleted.addAndGet(tally.total()));
          return more;
        });
      }
    });
    return deleted.get();
  }

  /** One bounded deletion: at most {@link Batches#limit()} rows of its main table, in one transaction. */
  @FunctionalInterface
  interface Batch {
    /** Deletes one batch, counting through {@code tally}; answers whether more may be due. */
    boolean run(Tx tx, Tally tally) throws SQLException;
  }

  /** Runs a task's batches, each in its own transaction that first checks the runner still leads. */
  interface Batches {
    /** The most rows a batch may delete from its main table (its dependents go with them). */
    int limit();

    /**
     * Runs {@code batch} in one fenced transaction; answers whether to go on (the batch said more may
     * be due and this run's budget of batches is not spent).
     */
    boolean run(Batch batch);
  }

  /** Rows a batch deleted, per table; applied to the run's counts only once its transaction commits. */
  final class Tally {
    private final Map<String, Long> deleted = new java.util.TreeMap<>();

    public void deleted(String table, long rows) {
      if (rows > 0) {
        deleted.merge(table, rows, Long::sum);
      }
    }

    public long total() {
      return deleted.values().stream().mapToLong(Long::longValue).sum();
    }

    Map<String, Long> counts() {
      return deleted;
    }
  }
}
