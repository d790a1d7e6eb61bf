package dev.conveyor.ledger;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import com.zaxxer.hikari.pool.HikariPool;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.ledger.jobs.RetryPolicy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Clock;
import java.util.concurrent.ThreadLocalRandom;
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
  private static final int MAX_TX_ATTEMPTS = 12;
  private static final ThreadLocal<Boolean> IN_TRANSACTION = ThreadLocal.withInitial(() -> false);

  private final LedgerUrl url;
  private final HikariDataSource dataSource;
  private final Clock clock;
  // SQLite has exactly one writer; queueing writers here is cheaper and fairer than busy-waiting in the driver.
  private final ReentrantLock sqliteWriter;
  private final LeasedJobs jobs;

  private Ledger(LedgerUrl url, HikariDataSource dataSource, Clock clock, RetryPolicy retryPolicy) {
    this.url = url;
    this.dataSource = dataSource;
    this.clock = clock;
    this.sqliteWriter = url.dialect() == Dialect.SQLITE ? new ReentrantLock(true) : null;
    this.jobs = new LeasedJobs(this, retryPolicy);
  }

  public static Ledger open(String url) {
    return open(url, Clock.systemUTC());
  }

  public static Ledger open(String url, Clock clock) {
    return open(LedgerOptions.defaults(url).withClock(clock));
  }

  public static Ledger open(LedgerOptions options) {
    LedgerUrl url = LedgerUrl.parse(options.url());
    HikariDataSource ds = pool(url, options.poolSize());
    try {
      migrate(ds, url);
    } catch (RuntimeException e) {
      ds.close();
      throw e;
    }
    return new Ledger(url, ds, options.clock(), options.retryPolicy());
  }

  private static HikariDataSource pool(LedgerUrl url, int poolSize) {
    HikariConfig cfg = new HikariConfig();
    cfg.setPoolName("ledger");
    cfg.setInitializationFailTimeout(1);
    cfg.setConnectionTimeout(30_000);
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

  public Clock clock() {
    return clock;
  }

  public DataSource dataSource() {
    return dataSource;
  }

  public LeasedJobs jobs() {
    return jobs;
  }

  /**
   * Runs {@code work} in one transaction and commits it. Serialization failures, deadlocks,
   * busy databases and optimistic conflicts run the whole unit again, so {@code work} must be
   * free of side effects outside the transaction (use {@link Tx#afterCommit}).
   */
  public <T> T transact(Tx.Work<T> work) {
    if (IN_TRANSACTION.get()) {
      throw new IllegalStateException("nested ledger transaction: pass the Tx you already have");
    }
    IN_TRANSACTION.set(true);
    try {
      for (int attempt = 1; ; attempt++) {
        try {
          return attemptOnce(work);
        } catch (RetryableFailure retry) {
          if (attempt >= MAX_TX_ATTEMPTS) {
            throw new LedgerException("transaction still conflicting after " + attempt + " attempts: "
                + retry.getCause().getMessage(), retry.getCause());
          }
          backoff(attempt);
        }
      }
    } finally {
      IN_TRANSACTION.set(false);
    }
  }

  private <T> T attemptOnce(Tx.Work<T> work) {
    if (sqliteWriter != null) {
      sqliteWriter.lock();
    }
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      Tx tx = new Tx(c, url.dialect(), clock.instant());
      T result;
      try {
        result = work.run(tx);
        c.commit();
      } catch (SQLException e) {
        rollback(c);
        if (url.dialect().isRetryable(e)) {
          throw new RetryableFailure(e);
        }
        throw new LedgerException("ledger error: " + e.getMessage(), e);
      } catch (OptimisticConflictException e) {
        rollback(c);
        throw new RetryableFailure(e);
      } catch (RuntimeException | Error e) {
        rollback(c);
        throw e;
      }
      for (Runnable action : tx.afterCommitActions()) {
        try {
          action.run();
        } catch (RuntimeException e) {
          log.warn("after-commit action failed", e);
        }
      }
      return result;
    } catch (SQLException e) {
      if (url.dialect().isRetryable(e)) {
        throw new RetryableFailure(e);
      }
      throw new LedgerException("ledger " + url + " unavailable: " + e.getMessage(), e);
    } finally {
      if (sqliteWriter != null) {
        sqliteWriter.unlock();
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

  private static void backoff(int attempt) {
    long capMs = Math.min(200, 2L << Math.min(attempt, 6));
    try {
      Thread.sleep(ThreadLocalRandom.current().nextLong(1, capMs + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new LedgerException("interrupted while retrying a ledger transaction");
    }
  }

  @Override
  public void close() {
    dataSource.close();
  }

  /** Marks a failure that a fresh attempt of the same transaction may not hit. */
  private static final class RetryableFailure extends RuntimeException {
    private static final long serialVersionUID = 1L;

    RetryableFailure(Exception cause) {
      super(cause);
    }
  }
}
