package dev.conveyor.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Types;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * One ledger transaction: its connection, the dialect, and the instant the transaction
 * started, from the ledger's clock ({@link Ledger#clock()}: the database's time, so every node
 * decides lease expiry alike; or a clock a test injected). Small explicit JDBC helpers keep call
 * sites readable.
 */
public final class Tx {
  private final Connection connection;
  private final Dialect dialect;
  private final Instant now;
  private final List<Runnable> afterCommit = new ArrayList<>();
  private boolean mayHaveWritten;
  private final boolean readOnly;
  /** Kept statements of the physical connection (SQLite); null where the driver caches its own. */
  private final StatementCache statements;

  /** Where signals raised in this transaction go after it commits (this process's waiters). */
  private final dev.conveyor.ledger.signal.LedgerSignals signals;
  private java.util.Set<String> signalled;

  Tx(Connection connection, Dialect dialect, Instant now, boolean readOnly, StatementCache statements) {
    this(connection, dialect, now, readOnly, statements, null);
  }

  Tx(Connection connection, Dialect dialect, Instant now, boolean readOnly, StatementCache statements,
      dev.conveyor.ledger.signal.LedgerSignals signals) {
    this.signals = signals;
    this.readOnly = readOnly;
    this.statements = statements;
    this.connection = connection;
    this.dialect = dialect;
    this.now = now;
  }

  /** The raw connection; whatever is done with it counts as a write. */
  public Connection connection() {
    writing("the raw connection");
    return connection;
  }

  public Dialect dialect() {
    return dialect;
  }

  public Instant now() {
    return now;
  }

  public long nowMillis() {
    return now.toEpochMilli();
  }

  /** Runs {@code action} once this transaction has committed (never if it rolls back). */
  public void afterCommit(Runnable action) {
    afterCommit.add(action);
  }

  /**
   * Tells waiters on {@code channel} that this transaction changed something, once it commits: in this
   * process after the commit, and on PostgreSQL in every process listening (a NOTIFY, delivered on commit).
   * The same signal raised twice in one transaction is sent once.
   */
  public void signal(String channel, String payload) throws SQLException {
    if (signalled == null) {
      signalled = new java.util.HashSet<>();
    }
    if (!signalled.add(channel + "\n" + payload)) {
      return;
    }
    if (signals == null) {
      return;
    }
    if (dialect == Dialect.POSTGRESQL) {
      queryOne("SELECT pg_notify(?, ?)", rs -> 1, channel, signals.tagged(payload));
    }
    afterCommit(() -> signals.local(channel, payload));
  }

  List<Runnable> afterCommitActions() {
    return afterCommit;
  }

  /** What rolling back to a savepoint must undo here as well: the actions and signals raised since. */
  record Mark(int afterCommit, java.util.Set<String> signalled) {}

  /** Taken with a savepoint. */
  Mark mark() {
    return new Mark(afterCommit.size(), signalled == null ? null : java.util.Set.copyOf(signalled));
  }

  /**
   * The statements since {@code mark} were rolled back to its savepoint: their after-commit actions are
   * dropped, and the signals they raised (whose NOTIFY the database dropped with them) may be raised again
   * by what follows, or a later unit's identical signal would be swallowed and never sent.
   */
  void rolledBackTo(Mark mark) {
    afterCommit.subList(mark.afterCommit(), afterCommit.size()).clear();
    signalled = mark.signalled() == null ? null : new java.util.HashSet<>(mark.signalled());
  }

  /**
   * Whether this transaction may have changed anything: an update, a batch, a query that is not a plain
   * SELECT (an {@code INSERT … RETURNING}), or use of the raw connection. Only such a transaction needs
   * its COMMIT's fate resolved when the connection is lost during it; a SELECT (even FOR UPDATE) that
   * runs again changes nothing.
   */
  boolean mayHaveWritten() {
    return mayHaveWritten;
  }

  public int update(String sql, Object... args) throws SQLException {
    writing(sql);
    PreparedStatement ps = prepare(sql);
    int count;
    try {
      bind(ps, args);
      count = ps.executeUpdate();
    } catch (SQLException | RuntimeException | Error e) {
      closeAfterFailure(ps, e);
      throw e;
    }
    release(sql, ps);
    return count;
  }

  private PreparedStatement prepare(String sql) throws SQLException {
    return statements == null ? connection.prepareStatement(sql) : statements.take(sql);
  }

  /** After a clean run: keeps {@code ps} for the next use where statements are kept, closes it otherwise. */
  private void release(String sql, PreparedStatement ps) throws SQLException {
    if (statements == null) {
      ps.close();
    } else {
      statements.giveBack(sql, ps);
    }
  }

  /** After a failed run: closes {@code ps} (never kept), a failure to close riding along as suppressed. */
  private static void closeAfterFailure(PreparedStatement ps, Throwable cause) {
    try {
      ps.close();
    } catch (SQLException closing) {
      cause.addSuppressed(closing);
    }
  }

  /** Executes {@code sql} once per argument row in one JDBC batch; returns the per-row counts. */
  public int[] batch(String sql, List<Object[]> rows) throws SQLException {
    if (rows.isEmpty()) {
      return new int[0];
    }
    writing(sql);
    PreparedStatement ps = prepare(sql);
    int[] counts;
    try {
      for (Object[] row : rows) {
        bind(ps, row);
        ps.addBatch();
      }
      counts = ps.executeBatch();
    } catch (SQLException | RuntimeException | Error e) {
      closeAfterFailure(ps, e);
      throw e;
    }
    release(sql, ps);
    return counts;
  }

  private void writing(String what) {
    if (readOnly) {
      throw new IllegalStateException("a read-only ledger transaction (Ledger.read) cannot write: " + what);
    }
    mayHaveWritten = true;
  }

  public <T> List<T> query(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
    if (!sql.stripLeading().regionMatches(true, 0, "SELECT", 0, 6)) {
      writing(sql);
    }
    PreparedStatement ps = prepare(sql);
    List<T> out = new ArrayList<>();
    try {
      bind(ps, args);
      try (ResultSet rs = ps.executeQuery()) {
        while (rs.next()) {
          out.add(mapper.map(rs));
        }
      }
    } catch (SQLException | RuntimeException | Error e) {
      closeAfterFailure(ps, e);
      throw e;
    }
    release(sql, ps);
    return out;
  }

  public <T> Optional<T> queryOne(String sql, RowMapper<T> mapper, Object... args) throws SQLException {
    List<T> rows = query(sql, mapper, args);
    if (rows.size() > 1) {
      throw new IllegalStateException("expected at most one row from: " + sql);
    }
    return rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0));
  }

  public long queryLong(String sql, Object... args) throws SQLException {
    return queryOne(sql, rs -> rs.getLong(1), args).orElse(0L);
  }

  private static void bind(PreparedStatement ps, Object[] args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      Object arg = args[i];
      if (arg == null) {
        ps.setNull(i + 1, Types.NULL);
      } else if (arg instanceof byte[] bytes) {
        ps.setBytes(i + 1, bytes);
      } else if (arg instanceof Boolean b) {
        ps.setInt(i + 1, b ? 1 : 0);
      } else if (arg instanceof Instant instant) {
        ps.setLong(i + 1, instant.toEpochMilli());
      } else if (arg instanceof Enum<?> e) {
        ps.setString(i + 1, e.name());
      } else {
        ps.setObject(i + 1, arg);
      }
    }
  }

  /** Maps the current row of a result set. */
  @FunctionalInterface
  public interface RowMapper<T> {
    T map(ResultSet rs) throws SQLException;
  }

  /** A unit of work inside a transaction. */
  @FunctionalInterface
  public interface Work<T> {
    T run(Tx tx) throws SQLException;
  }
}
