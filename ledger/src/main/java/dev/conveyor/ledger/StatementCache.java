package dev.conveyor.ledger;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The prepared statements of one physical SQLite connection, kept across transactions. sqlite-jdbc
 * compiles a statement's SQL on every prepare (the lease query alone took ~70 µs, a large share of a
 * short transaction), and the pool's proxy closes what it handed out when the connection goes back; so
 * statements are prepared on the physical connection and kept here, at most {@link #MAX} per connection,
 * least recently used first out. PostgreSQL's driver keeps its own cache and needs none of this.
 *
 * <p>A statement is taken out while in use (a nested query of the same SQL prepares its own) and put back
 * only after a clean run; one that failed is closed instead. A pooled connection serves one thread at a
 * time, so a cache is never used concurrently.
 */
final class StatementCache {
  static final int MAX = 128;

  /** Caches by physical connection; entries of connections the pool has closed go when a new one comes. */
  private static final Map<Connection, StatementCache> CACHES = new HashMap<>();

  private final Connection physical;
  private final LinkedHashMap<String, PreparedStatement> bySql = new LinkedHashMap<>(32, 0.75f, true) {
    @Override
    protected boolean removeEldestEntry(Map.Entry<String, PreparedStatement> eldest) {
      if (size() > MAX) {
        closeQuietly(eldest.getValue());
        return true;
      }
      return false;
    }
  };

  private StatementCache(Connection physical) {
    this.physical = physical;
  }

  /** The cache of {@code pooled}'s physical connection. */
  static StatementCache of(Connection pooled) throws SQLException {
    Connection physical = pooled.unwrap(org.sqlite.SQLiteConnection.class);
    synchronized (CACHES) {
      StatementCache cache = CACHES.get(physical);
      if (cache == null) {
        CACHES.keySet().removeIf(StatementCache::closed);
        cache = new StatementCache(physical);
        CACHES.put(physical, cache);
      }
      return cache;
    }
  }

  /** A statement for {@code sql}: the kept one, or a newly prepared one. */
  synchronized PreparedStatement take(String sql) throws SQLException {
    PreparedStatement kept = bySql.remove(sql);
    return kept != null ? kept : physical.prepareStatement(sql);
  }

  /** Keeps {@code statement} for the next use of {@code sql}; it ran cleanly. */
  synchronized void giveBack(String sql, PreparedStatement statement) {
    try {
      statement.clearParameters();
    } catch (SQLException e) {
      closeQuietly(statement);
      return;
    }
    PreparedStatement other = bySql.put(sql, statement);
    if (other != null && other != statement) {
      closeQuietly(other);
    }
  }

  /** Statements kept now (tests). */
  synchronized int size() {
    return bySql.size();
  }

  private static boolean closed(Connection c) {
    try {
      return c.isClosed();
    } catch (SQLException e) {
      return true;
    }
  }

  private static void closeQuietly(PreparedStatement statement) {
    try {
      statement.close();
    } catch (SQLException ignored) {
      // a statement of a closed connection: nothing left to free
    }
  }
}
