package dev.conveyor.ledger;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.ledger.jobs.RetryPolicy;
import dev.conveyor.ledger.time.DatabaseClock;
import dev.conveyor.ledger.time.LedgerTime;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The durable ledger: one database (SQLite embedded, PostgreSQL for scale-out) holding
 * every durable primitive. Opening a ledger migrates its schema.
 */
public final class Ledger implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Ledger.class);
  private static final Duration MAX_CONTENTION_WAIT = Duration.ofMillis(200);
  private static final ThreadLocal<Boolean> IN_TRANSACTION = ThreadLocal.withInitial(() -> false);

  private final LedgerUrl url;
  private final HikariDataSource dataSource;
  /** Where {@link #read} runs: on SQLite a second pool whose deferred transactions never take the write lock. */
  private final HikariDataSource readSource;
  private final Clock clock;
  private final DatabaseClock databaseClock; // null when the ledger's time is the host's or injected
  // SQLite has exactly one writer; queueing writers here is cheaper and fairer than busy-waiting in the driver.
  private final ReentrantLock sqliteWriter;
  private final LeasedJobs jobs;
  private final dev.conveyor.ledger.signal.LedgerSignals signals;
  private final GroupCommit groupCommit = new GroupCommit(this);
  private final TransientRetry retry;

  private Ledger(LedgerUrl url, HikariDataSource dataSource, HikariDataSource readSource, Clock clock,
      DatabaseClock databaseClock,
      RetryPolicy retryPolicy, TransientRetry retry) {
    this.url = url;
    this.signals = new dev.conveyor.ledger.signal.LedgerSignals(url);
    this.retry = retry;
    this.dataSource = dataSource;
    this.readSource = readSource;
    this.clock = clock;
    this.databaseClock = databaseClock;
    this.sqliteWriter = url.dialect() == Dialect.SQLITE ? new ReentrantLock(true) : null;
    this.jobs = new LeasedJobs(this, retryPolicy);
  }

  /** Opens a ledger on the database's clock. */
  public static Ledger open(String url) {
    return open(LedgerOptions.defaults(url));
  }

  /** Opens a ledger on exactly {@code clock} (tests). */
  public static Ledger open(String url, Clock clock) {
    return open(LedgerOptions.defaults(url).withClock(clock));
  }

  public static Ledger open(LedgerOptions options) {
    LedgerUrl url = LedgerUrl.parse(options.url());
    HikariDataSource ds = pool(url, options.poolSize(), options.transientRetry());
    DatabaseClock databaseClock;
    try {
      migrate(ds, url);
      databaseClock = databaseClock(options.time(), url, ds);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    Clock clock = databaseClock != null ? databaseClock
        : options.time() instanceof LedgerTime.Injected injected ? injected.clock()
        : ((LedgerTime.DatabaseTime) options.time()).host(); // SQLite: embedded, its clock is the host's
    HikariDataSource reads = url.dialect() == Dialect.SQLITE ? sqliteReadPool(url) : ds;
    return new Ledger(url, ds, reads, clock, databaseClock, options.retryPolicy(), options.transientRetry());
  }

  /** The database's clock when the ledger runs on it and the database is a server; null otherwise. */
  private static DatabaseClock databaseClock(LedgerTime time, LedgerUrl url, DataSource ds) {
    String query = url.dialect().databaseTimeQuery();
    if (!(time instanceof LedgerTime.DatabaseTime database) || query == null) {
      return null;
    }
    try {
      DatabaseClock clock = new DatabaseClock(DatabaseClock.querying(ds, query), database.host(), System::nanoTime);
      clock.resyncEvery(DatabaseClock.RESYNC_EVERY);
      log.info("ledger {}: leases and expiry run on the database's clock (this host's differs by {} ms)", url,
          clock.skew().toMillis());
      return clock;
    } catch (SQLException e) {
      throw new LedgerException("cannot read the clock of ledger " + url + ": " + rootMessage(e, url), e);
    }
  }

  static {
    // HikariCP checks a pooled connection that sat idle longer than this before lending it, with an empty
    // query: a transaction of its own on PostgreSQL. At its default of 0.5 s every once-a-second heartbeat
    // and idle poll paid for two. Within 2 s a connection that broke meanwhile fails its transaction, which
    // TransientRetry retries on another; past it, the check stays.
    if (System.getProperty("com.zaxxer.hikari.aliveBypassWindowMs") == null) {
      System.setProperty("com.zaxxer.hikari.aliveBypassWindowMs", "2000");
    }
  }

  private static HikariDataSource pool(LedgerUrl url, int poolSize, TransientRetry retry) {
    HikariConfig cfg = new HikariConfig();
    cfg.setPoolName("ledger");
    cfg.setInitializationFailTimeout(1);
    // SQLite's pool only waits for a sibling connection; PostgreSQL's may wait on a server that is down,
    // and one such wait must leave room in the retry budget for a few more tries.
    cfg.setConnectionTimeout(url.dialect() == Dialect.SQLITE ? 30_000
        : Math.max(250, Math.min(30_000, retry.budget().toMillis() / 4)));
    if (url.dialect() == Dialect.SQLITE) {
      createParentDirectory(url.sqliteFile());
      SqliteFiles.keepPrivate(url.sqliteFile());
      SQLiteConfig sqlite = new SQLiteConfig();
      sqlite.setJournalMode(SQLiteConfig.JournalMode.WAL);
      sqlite.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
      sqlite.setBusyTimeout(30_000);
      sqlite.setTransactionMode(SQLiteConfig.TransactionMode.IMMEDIATE);
      sqlite.enforceForeignKeys(true);
      SQLiteDataSource sds = new SQLiteDataSource(sqlite);
      sds.setUrl(url.jdbcUrl());
      cfg.setDataSource(sds);
      cfg.setMaximumPoolSize(Math.min(poolSize, 4));
    } else {
      cfg.setJdbcUrl(url.jdbcUrl());
      java.util.Properties props = new java.util.Properties();
      // batched INSERTs (job fan-out, message batches) become multi-row statements: far fewer round trips
      props.setProperty("reWriteBatchedInserts", "true");
      props.putAll(url.properties());
      cfg.setDataSourceProperties(props);
      cfg.setMaximumPoolSize(poolSize);
    }
    try {
      return new HikariDataSource(cfg);
    } catch (HikariPool.PoolInitializationException e) {
      throw new LedgerException("cannot open ledger " + url + ": " + rootMessage(e, url), e);
    }
  }

  /**
   * SQLite in WAL mode lets readers run beside the one writer: these connections open deferred
   * transactions that only ever read, so a status page, a metrics scrape or a Watch poll never waits
   * for (or holds) the write lock.
   */
  private static HikariDataSource sqliteReadPool(LedgerUrl url) {
    SQLiteConfig sqlite = new SQLiteConfig();
    sqlite.setBusyTimeout(30_000);
    sqlite.setTransactionMode(SQLiteConfig.TransactionMode.DEFERRED);
    sqlite.enforceForeignKeys(true);
    SQLiteDataSource sds = new SQLiteDataSource(sqlite);
    sds.setUrl(url.jdbcUrl());
    HikariConfig cfg = new HikariConfig();
    cfg.setPoolName("ledger-read");
    cfg.setDataSource(sds);
    cfg.setMaximumPoolSize(2);
    cfg.setConnectionTimeout(30_000);
    return new HikariDataSource(cfg);
  }

  private static void createParentDirectory(Path file) {
    try {
      Files.createDirectories(file.getParent());
    } catch (Exception e) {
      throw new LedgerException("cannot create the ledger directory " + file.getParent() + ": " + e.getMessage(), e);
    }
    if (Files.isDirectory(file)) {
      throw new LedgerException("cannot open ledger sqlite:" + file + ": it is a directory, not a file");
    }
  }

  private static void migrate(DataSource ds, LedgerUrl url) {
    try {
      Flyway.configure()
          .dataSource(ds)
          .locations("classpath:db/migration")
          .placeholders(url.dialect().migrationPlaceholders())
          .load()
          .migrate();
    } catch (FlywayException e) {
      throw new LedgerException("cannot migrate ledger " + url + ": " + rootMessage(e, url), e);
    }
  }

  private static String rootMessage(Throwable e, LedgerUrl url) {
    Throwable t = e;
    while (t.getCause() != null && t.getCause() != t) {
      t = t.getCause();
    }
    String msg = t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    if (url.dialect() == Dialect.SQLITE && (msg.contains("NOTADB") || msg.contains("not a database"))) {
      return "the file is not a SQLite database (or is corrupt); move it aside or point --ledger elsewhere";
    }
    if (url.dialect() == Dialect.SQLITE && msg.contains("CANTOPEN")) {
      return "the file cannot be opened (check the path and its permissions)";
    }
    return msg;
  }

  public LedgerUrl url() {
    return url;
  }

  public Dialect dialect() {
    return url.dialect();
  }

  /**
   * The ledger's time, which every transaction's {@link Tx#now()} is read from: the database's clock
   * carried forward (PostgreSQL), the host's (SQLite), or the one injected.
   */
  public Clock clock() {
    return clock;
  }

  /**
   * This host's wall clock minus the database's as of the last resync (positive: the host is ahead);
   * zero when the ledger's time is the host's or injected. A gauge, not an input: nothing decides on it.
   */
  public Duration hostClockSkew() {
    return databaseClock == null ? Duration.ZERO : databaseClock.skew();
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public LeasedJobs jobs() {
    return jobs;
  }

  /** Signals about committed changes, for waiters here and (on PostgreSQL) in other processes. */
  public dev.conveyor.ledger.signal.LedgerSignals signals() {
    return signals;
  }

  /**
   * Runs {@code work} in one transaction and commits it. Transient failures ({@link FailureKind}:
   * connection loss, shutdown, pool timeouts, serialization failures, deadlocks, busy SQLite,
   * optimistic conflicts) run the whole unit again with backoff, within the {@link TransientRetry}
   * budget, so {@code work} must be free of side effects outside the transaction (use
   * {@link Tx#afterCommit}). Past the budget it throws {@link LedgerUnavailableException}; a
   * deterministic database error throws {@link LedgerRefusedException} at once.
   *
   * <p>A connection lost during COMMIT is ambiguous: the commit may have happened. On PostgreSQL the
   * transaction's id is read just before COMMIT, and after such a loss its fate is asked on a fresh
   * connection ({@code txid_status}): committed means done (the result is returned and the unit is
   * not run again), aborted means run again; if the database stays unreachable the caller gets a
   * {@link LedgerUnavailableException} with {@code commitUnknown()} set. On SQLite a failed COMMIT did
   * not commit.
   */
  public <T> T transact(Tx.Work<T> work) {
    return run(work, false);
  }

  /**
   * Runs {@code work} like {@link #transact}, but in a transaction it may share with other callers'
   * concurrent units (group commit: one commit for many). The answer, and any failure, are this unit's
   * own, as if it had committed alone; a unit that fails deterministically leaves nothing behind. For
   * short units that many threads run at once (completing jobs, recording their outcome).
   */
  public <T> T transactGrouped(Tx.Work<T> work) {
    if (IN_TRANSACTION.get()) {
      throw new IllegalStateException("nested ledger transaction: pass the Tx you already have");
    }
    return groupCommit.transact(work);
  }

  /**
   * One request of {@code work}, run through group commit with the same work's other concurrent requests
   * in one call (see {@link Coalesced}); answered as if it had run alone.
   */
  public <R, T> T transactGrouped(Coalesced<R, T> work, R request) {
    if (IN_TRANSACTION.get()) {
      throw new IllegalStateException("nested ledger transaction: pass the Tx you already have");
    }
    return groupCommit.transact(work, request);
  }

  /**
   * As {@link #transactGrouped(Tx.Work)}, without waiting: the future completes (on a group-commit
   * thread) once the unit's transaction has ended, with its value or the failure {@code transactGrouped}
   * would have thrown. What runs on completion must be quick and must not wait for the ledger. For
   * servers that answer many calls of one stream without a thread per call.
   */
  public <T> java.util.concurrent.CompletableFuture<T> transactGroupedAsync(Tx.Work<T> work) {
    return groupCommit.transactAsync(work);
  }

  /** As {@link #transactGrouped(Coalesced, Object)}, without waiting (see {@link #transactGroupedAsync(Tx.Work)}). */
  public <R, T> java.util.concurrent.CompletableFuture<T> transactGroupedAsync(Coalesced<R, T> work, R request) {
    return groupCommit.transactAsync(work, request);
  }

  /** Group-commit transactions so far and the units they carried: {transactions, units}. */
  public long[] groupCommitCounts() {
    return new long[] {groupCommit.transactions(), groupCommit.units()};
  }

  GroupCommit groupCommit() {
    return groupCommit;
  }

  /**
   * Runs {@code work}, which only reads, in one read-only transaction, retried like {@link #transact}.
   * On SQLite it never takes the write lock (WAL readers see the last commit); on PostgreSQL the
   * transaction is READ ONLY. A write inside fails with an {@link IllegalStateException}.
   */
  public <T> T read(Tx.Work<T> work) {
    return run(work, true);
  }

  private <T> T run(Tx.Work<T> work, boolean readOnly) {
    if (IN_TRANSACTION.get()) {
      throw new IllegalStateException("nested ledger transaction: pass the Tx you already have");
    }
    IN_TRANSACTION.set(true);
    long started = System.nanoTime();
    long deadline = started + retry.budget().toNanos();
    int contention = 0;
    try {
      for (int attempt = 1; ; attempt++) {
        Throwable last;
        boolean contended = false;
        try {
          return attemptOnce(work, readOnly);
        } catch (UnknownCommit unknown) {
          CommitStatus status = commitStatus(unknown.txid, deadline);
          if (status == CommitStatus.COMMITTED) {
            log.info("ledger {}: the connection was lost during COMMIT, which did commit", url);
            @SuppressWarnings("unchecked")
            T result = (T) unknown.finish();
            return result;
          }
          if (status == CommitStatus.UNKNOWN) {
            throw new LedgerUnavailableException("ledger " + url + " unavailable: the connection was lost during"
                + " COMMIT and whether it committed could not be learned within " + retry.budget().toSeconds()
                + " s: " + unknown.getCause().getMessage(), unknown.getCause(), true);
          }
          last = unknown.getCause();
        } catch (RetryableFailure retryable) {
          last = retryable.getCause();
          contended = retryable.kind == FailureKind.CONTENTION;
          if (contended && ++contention >= retry.maxContentionAttempts()) {
            throw new LedgerUnavailableException("transaction still conflicting after " + contention
                + " attempts: " + last.getMessage(), last);
          }
        }
        Duration wait = retry.backoff(attempt);
        if (contended && wait.compareTo(MAX_CONTENTION_WAIT) > 0) {
          wait = MAX_CONTENTION_WAIT; // the winner commits within milliseconds; no need to wait like for a restart
        }
        if (System.nanoTime() + wait.toNanos() - deadline > 0) {
          throw new LedgerUnavailableException("ledger " + url + " unavailable for "
              + Duration.ofNanos(System.nanoTime() - started).toMillis() + " ms (" + attempt + " attempts): "
              + last.getMessage(), last);
        }
        log.debug("ledger transaction attempt {} failed transiently; again in {} ms: {}", attempt, wait.toMillis(),
            last.getMessage());
        pause(wait, last);
      }
    } finally {
      IN_TRANSACTION.set(false);
    }
  }

  private <T> T attemptOnce(Tx.Work<T> work, boolean readOnly) {
    ReentrantLock writer = readOnly ? null : sqliteWriter;
    if (writer != null) {
      writer.lock();
    }
    Connection c = null;
    try {
      c = (readOnly ? readSource : dataSource).getConnection();
      c.setAutoCommit(false);
      if (readOnly && url.dialect() == Dialect.POSTGRESQL) {
        c.setReadOnly(true); // BEGIN READ ONLY; the pool resets it when the connection comes back
      }
      Tx tx = new Tx(c, url.dialect(), clock.instant(), readOnly,
          url.dialect() == Dialect.SQLITE ? StatementCache.of(c) : null, signals);
      T result;
      Long txid;
      try {
        result = work.run(tx);
        txid = tx.mayHaveWritten() ? writeTransactionId(c) : null; // a read needs no commit check
      } catch (SQLException | RuntimeException e) {
        rollback(c);
        throw failure(e, "ledger statement failed");
      } catch (Error e) {
        rollback(c);
        throw e;
      }
      try {
        c.commit();
      } catch (SQLException e) {
        rollback(c);
        if (txid != null && FailureKind.of(e) == FailureKind.UNAVAILABLE) {
          throw new UnknownCommit(e, txid, result, tx);
        }
        throw failure(e, "ledger commit failed");
      }
      runAfterCommit(tx);
      return result;
    } catch (SQLException e) {
      throw failure(e, "ledger " + url + " refused the connection");
    } finally {
      closeQuietly(c);
      if (writer != null) {
        writer.unlock();
      }
    }
  }

  /** A transient failure to run again, a deterministic SQL error as such, anything else unchanged. */
  static RuntimeException failure(Exception e, String context) {
    FailureKind kind = FailureKind.of(e);
    if (kind.isTransient()) {
      return new RetryableFailure(kind, e);
    }
    if (e instanceof SQLException sql) {
      return new LedgerRefusedException(context, sql);
    }
    return (RuntimeException) e;
  }

  private Long writeTransactionId(Connection c) throws SQLException {
    String sql = url.dialect().writeTransactionIdQuery();
    if (sql == null) {
      return null;
    }
    try (var st = c.prepareStatement(sql); var rs = st.executeQuery()) {
      long id = rs.next() ? rs.getLong(1) : 0;
      return rs.wasNull() || id == 0 ? null : id;
    }
  }

  private enum CommitStatus { COMMITTED, ABORTED, UNKNOWN }

  /** Asks, on a fresh connection, what became of a transaction whose COMMIT lost its connection. */
  private CommitStatus commitStatus(long txid, long deadline) {
    for (int attempt = 1; ; attempt++) {
      try (Connection c = dataSource.getConnection();
          var ps = c.prepareStatement(url.dialect().transactionStatusQuery())) {
        c.setAutoCommit(true);
        ps.setLong(1, txid);
        try (var rs = ps.executeQuery()) {
          String status = rs.next() ? rs.getString(1) : null;
          if ("committed".equals(status)) {
            return CommitStatus.COMMITTED;
          }
          if ("aborted".equals(status)) {
            return CommitStatus.ABORTED;
          }
          if (status == null) {
            return CommitStatus.UNKNOWN; // too old to know: cannot happen within seconds
          }
          // "in progress": the terminated backend has not finished rolling back yet
        }
      } catch (SQLException e) {
        if (!FailureKind.of(e).isTransient()) {
          return CommitStatus.UNKNOWN;
        }
      }
      Duration wait = retry.backoff(attempt);
      if (System.nanoTime() + wait.toNanos() - deadline > 0) {
        return CommitStatus.UNKNOWN;
      }
      pause(wait, null);
    }
  }

  private static void runAfterCommit(Tx tx) {
    for (Runnable action : tx.afterCommitActions()) {
      try {
        action.run();
      } catch (RuntimeException e) {
        log.warn("after-commit action failed", e);
      }
    }
  }

  private static void rollback(Connection c) {
    try {
      c.rollback();
    } catch (SQLException e) {
      log.debug("rollback failed", e);
    }
  }

  private static void closeQuietly(Connection c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (SQLException e) {
      log.debug("closing a ledger connection failed", e);
    }
  }

  private static void pause(Duration wait, Throwable last) {
    try {
      Thread.sleep(wait.toMillis(), (int) (wait.toNanos() % 1_000_000));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LedgerUnavailableException("interrupted while waiting to retry a ledger transaction", last);
    }
  }

  @Override
  public void close() {
    jobs.ready().close();
    signals.close();
    groupCommit.close();
    if (databaseClock != null) {
      databaseClock.close();
    }
    if (readSource != dataSource) {
      readSource.close();
    }
    dataSource.close();
  }

  /** Marks a failure that a fresh attempt of the same transaction may not hit. */
  private static final class RetryableFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final transient FailureKind kind;

    RetryableFailure(FailureKind kind, Exception cause) {
      super(cause);
      this.kind = kind;
    }
  }

  /** The connection was lost during COMMIT of transaction {@code txid}; holds what a commit would return. */
  private static final class UnknownCommit extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final long txid;
    private final transient Object result;
    private final transient Tx tx;

    UnknownCommit(SQLException cause, long txid, Object result, Tx tx) {
      super(cause);
      this.txid = txid;
      this.result = result;
      this.tx = tx;
    }

    Object finish() {
      runAfterCommit(tx);
      return result;
    }
  }
}
