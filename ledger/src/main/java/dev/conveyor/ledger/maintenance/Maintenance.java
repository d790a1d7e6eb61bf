package dev.conveyor.ledger.maintenance;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.maintenance.LeaderLease.Leading;
import dev.conveyor.ledger.maintenance.LeaderLease.NotLeaderException;
import dev.conveyor.ledger.maintenance.LeaderLease.Standing;
import dev.conveyor.ledger.maintenance.RetentionReport.TaskReport;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ledger's upkeep, run by one elected node at a time: reclaiming expired job leases (the reaper)
 * and retention — every module's {@link RetentionTask}, in the order given, in fenced batches. Every
 * node calls {@link #lead()} often (about once a second) and {@link #retainIfDue()} now and then;
 * only the leader does anything. A leader that stops without {@link #close()} (killed) is replaced
 * once its lease expires.
 */
public final class Maintenance implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Maintenance.class);
  /** The {@code ledger_leaders} row maintenance is elected through. */
  public static final String LEADER = "maintenance";

  /**
   * {@code lease}: how long a silent leader keeps leading; {@code interval}: between retention runs;
   * {@code batchSize}: rows per deleting transaction; {@code maxBatches}: per task and run, so one run
   * ends even while rows keep coming; {@code reapLimit}: expired leases reclaimed per tick.
   */
  public record Options(Duration lease, Duration interval, int batchSize, int maxBatches, int reapLimit) {
    public static final int MAX_BATCH_SIZE = 5_000;

    public Options {
      if (lease.isNegative() || lease.isZero() || interval.isNegative() || interval.isZero()) {
        throw new IllegalArgumentException("maintenance lease and interval must be positive");
      }
      if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
        throw new IllegalArgumentException("retention batch size must be 1 to " + MAX_BATCH_SIZE + ", got " + batchSize);
      }
      if (maxBatches < 1 || reapLimit < 1) {
        throw new IllegalArgumentException("max batches and reap limit must be at least 1");
      }
    }

    public static Options defaults() {
      return new Options(Duration.ofSeconds(30), Duration.ofMinutes(10), 500, 2_000, 500);
    }

    public Options withLease(Duration d) {
      return new Options(d, interval, batchSize, maxBatches, reapLimit);
    }

    public Options withInterval(Duration d) {
      return new Options(lease, d, batchSize, maxBatches, reapLimit);
    }

    public Options withBatchSize(int n) {
      return new Options(lease, interval, n, maxBatches, reapLimit);
    }
  }

  /** What maintenance reports as it goes (metrics). */
  public interface Observer {
    void leading(boolean leading);

    void reaped(int leases);

    void retention(RetentionReport report);

    Observer NONE = new Observer() {
      @Override
      public void leading(boolean leading) {}

      @Override
      public void reaped(int leases) {}

      @Override
      public void retention(RetentionReport report) {}
    };
  }

  private final Ledger ledger;
  private final LeaderLease lease;
  private final List<RetentionTask> tasks;
  private final Options options;
  private final Observer observer;
  private volatile boolean leading;
  private boolean warnedAutovacuumOff;
  private static final long DEAD_ROWS_WORTH_A_VACUUM = 1_000;
  private static final Duration VACUUM_TIMEOUT = Duration.ofMinutes(1);
  private volatile Instant nextRetention; // by the ledger's clock; null: at once when leading

  public Maintenance(Ledger ledger, String holder, List<RetentionTask> tasks, Options options, Observer observer) {
    this.ledger = ledger;
    this.lease = new LeaderLease(ledger, LEADER, holder, options.lease());
    this.tasks = List.copyOf(tasks);
    this.options = options;
    this.observer = observer;
  }

  public List<RetentionTask> tasks() {
    return tasks;
  }

  public Options options() {
    return options;
  }

  /** Whether this node led at its last {@link #lead()}. */
  public boolean leading() {
    return leading;
  }

  /** Renews or takes the maintenance lease; the leader then reaps expired job leases. */
  public Standing lead() {
    Standing standing;
    try {
      standing = lease.tryLead();
    } catch (RuntimeException e) {
      setLeading(false); // unknown: the fenced batches refuse anyway once the term is gone
      throw e;
    }
    setLeading(standing instanceof Leading);
    if (standing instanceof Leading l) {
      if (l.elected()) {
        log.info("maintenance: {} leads (lease {} s)", lease.holder(), options.lease().toSeconds());
        nextRetention = null;
      }
      int reaped = ledger.jobs().reapExpired(options.reapLimit());
      if (reaped > 0) {
        observer.reaped(reaped);
      }
    }
    return standing;
  }

  private void setLeading(boolean now) {
    if (leading != now) {
      leading = now;
      observer.leading(now);
    }
  }

  /** Runs retention when this node leads and the interval has passed since its last run. */
  public Optional<RetentionReport> retainIfDue() {
    if (!leading) {
      return Optional.empty();
    }
    Instant next = nextRetention;
    if (next != null && ledger.transact(tx -> tx.now()).isBefore(next)) {
      return Optional.empty();
    }
    RetentionReport report = runRetention();
    nextRetention = report.at().plus(options.interval());
    return Optional.of(report);
  }

  /**
   * One retention run under this node's current term (take it with {@link #lead()} first). A task
   * that fails stops with what it deleted so far and the next task runs; losing the lease stops the
   * run.
   */
  public RetentionReport runRetention() {
    String term = lease.epoch();
    long started = System.nanoTime();
    Instant now = ledger.transact(tx -> {
      lease.checkIn(tx, term);
      return tx.now();
    });
    List<TaskReport> reports = new ArrayList<>();
    boolean lostLease = false;
    for (RetentionTask task : tasks) {
      FencedBatches batches = new FencedBatches(term);
      Optional<String> failure = Optional.empty();
      try {
        task.collect(now, batches);
      } catch (NotLeaderException e) {
        reports.add(new TaskReport(task.name(), task.age(), batches.counts, Optional.of(e.getMessage())));
        log.warn("maintenance: retention stopped: {}", e.getMessage());
        lostLease = true;
        break;
      } catch (RuntimeException e) {
        failure = Optional.of(e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage());
        log.warn("maintenance: retention of {} stopped after {} rows: {}", task.name(), batches.total(), e.toString());
      }
      reports.add(new TaskReport(task.name(), task.age(), batches.counts, failure));
    }
    if (!lostLease) { // a run that lost its lease leaves the vacuum to the next leader
      vacuumWhereNobodyElseWill();
    }
    RetentionReport report = new RetentionReport(now, false, reports, Duration.ofNanos(System.nanoTime() - started));
    log.info("maintenance: retention deleted {} in {} ms", report.summary(), report.took().toMillis());
    observer.retention(report);
    return report;
  }

  /**
   * Deleted and updated rows leave dead tuples that only VACUUM makes reusable. PostgreSQL's
   * autovacuum does that; on a server where it is off (some CI and test configurations, or an
   * operator's choice), the ledger's tables would grow without bound however much retention deletes,
   * so the leader vacuums those with many dead rows after each retention run ({@code VACUUM (ANALYZE,
   * SKIP_LOCKED)}, each bounded by a lock and statement timeout).
   */
  private void vacuumWhereNobodyElseWill() {
    if (ledger.dialect() != Dialect.POSTGRESQL) {
      return; // SQLite reuses its free pages; shrinking the file is 'conveyor admin vacuum'
    }
    try {
      boolean off = "off".equals(ledger.read(tx -> tx.queryOne("SELECT current_setting('autovacuum')",
          rs -> rs.getString(1)).orElse("on")));
      if (!off) {
        return;
      }
      if (!warnedAutovacuumOff) {
        warnedAutovacuumOff = true;
        log.warn("maintenance: autovacuum is off on this PostgreSQL server; the maintenance leader vacuums the"
            + " ledger's tables after each retention run (turn autovacuum on to leave it to the server)");
      }
      long before = 0;
      long after = 0;
      for (Vacuum.Space space : Vacuum.deadRows(ledger, DEAD_ROWS_WORTH_A_VACUUM, VACUUM_TIMEOUT)) {
        before += space.before();
        after += space.after();
      }
      log.debug("maintenance: vacuumed the ledger's tables ({} -> {} bytes)", before, after);
    } catch (RuntimeException e) {
      log.warn("maintenance: vacuum after retention failed: {}", e.toString());
    }
  }

  /**
   * For operators: one retention run now, under leadership taken for it and given back after (no
   * reaping). Empty when another node leads: it runs retention itself.
   */
  public Optional<RetentionReport> runOnceIfFree() {
    Standing standing = lease.tryLead();
    if (!(standing instanceof Leading)) {
      return Optional.empty();
    }
    try {
      return Optional.of(runRetention());
    } finally {
      close();
    }
  }

  /** What a run would delete now, per task and table; needs no leadership. */
  public RetentionReport dryRun() {
    long started = System.nanoTime();
    return ledger.transact(tx -> {
      Instant now = tx.now();
      List<TaskReport> reports = new ArrayList<>();
      for (RetentionTask task : tasks) {
        reports.add(new TaskReport(task.name(), task.age(), task.due(tx, now), Optional.empty()));
      }
      return new RetentionReport(now, true, reports, Duration.ofNanos(System.nanoTime() - started));
    });
  }

  /** Who leads maintenance now (expired or not), as stored. */
  public Optional<LeaderLease.Holder> leader() {
    return LeaderLease.current(ledger, LEADER);
  }

  /** Gives up leadership at once, so another node takes over without waiting for the lease. */
  @Override
  public void close() {
    try {
      lease.release();
    } finally {
      setLeading(false);
    }
  }

  /** Runs a task's batches under {@code term}, at most {@link Options#maxBatches} of them. */
  private final class FencedBatches implements RetentionTask.Batches {
    private final String term;
    private final Map<String, Long> counts = new TreeMap<>();
    private int used;

    FencedBatches(String term) {
      this.term = term;
    }

    @Override
    public int limit() {
      return options.batchSize();
    }

    @Override
    public boolean run(RetentionTask.Batch batch) {
      if (used >= options.maxBatches()) {
        return false;
      }
      used++;
      record Done(boolean more, Map<String, Long> counts) {}
      Done done = ledger.transact(tx -> {
        lease.checkIn(tx, term);
        RetentionTask.Tally tally = new RetentionTask.Tally(); // fresh per attempt: a rerun counts once
        boolean more = batch.run(tx, tally);
        return new Done(more, new LinkedHashMap<>(tally.counts()));
      });
      done.counts().forEach((table, n) -> counts.merge(table, n, Long::sum));
      return done.more() && used < options.maxBatches();
    }

    long total() {
      return counts.values().stream().mapToLong(Long::longValue).sum();
    }
  }
}
