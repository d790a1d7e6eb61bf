package dev.conveyor.ledger.maintenance;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Gives the space retention freed back to the database. SQLite: {@code VACUUM} rewrites the file
 * without free pages (it needs the write lock for the whole rewrite and temporarily up to twice the
 * file's size on disk), then {@code ANALYZE}. PostgreSQL: {@code VACUUM (ANALYZE)} on each table of the
 * ledger's schema marks dead rows' space reusable and refreshes the planner's statistics, without
 * blocking readers or writers (autovacuum does the same in the background; files shrink only where
 * their end is free). Both run outside a transaction, on their own connection.
 */
public final class Vacuum {
  private Vacuum() {}

  /** One table (or the SQLite file, named {@code *}): its size before and after, in bytes. */
  public record Space(String table, long before, long after) {}

  public static List<Space> run(Ledger ledger) {
    try (Connection c = ledger.dataSource().getConnection()) {
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        return ledger.dialect() == Dialect.SQLITE ? sqlite(st) : postgres(c, st);
      }
    } catch (SQLException e) {
      throw new LedgerException("vacuum of ledger " + ledger.url() + " failed: " + e.getMessage(), e);
    }
  }

  /**
   * PostgreSQL only: {@code VACUUM (ANALYZE, SKIP_LOCKED)} of the ledger's tables holding at least
   * {@code minDeadRows} dead rows (by {@code pg_stat_user_tables}), each statement bounded by
   * {@code timeout} for both its locks and its run, so a vacuum never queues DDL or holds a connection
   * for long. Tables another session has locked are skipped until next time.
   */
  public static List<Space> deadRows(Ledger ledger, long minDeadRows, java.time.Duration timeout) {
    try (Connection c = ledger.dataSource().getConnection()) {
      c.setAutoCommit(true);
      try (Statement st = c.createStatement()) {
        st.execute("SET lock_timeout = " + timeout.toMillis());
        st.execute("SET statement_timeout = " + timeout.toMillis());
        List<String> tables = new ArrayList<>();
        try (var ps = c.prepareStatement("SELECT relname FROM pg_stat_user_tables WHERE schemaname = current_schema()"
            + " AND n_dead_tup >= ? ORDER BY relname")) {
          ps.setLong(1, minDeadRows);
          try (var rs = ps.executeQuery()) {
            while (rs.next()) {
              tables.add(rs.getString(1));
            }
          }
        }
        List<Space> out = vacuum(c, st, tables, "ANALYZE, SKIP_LOCKED");
        st.execute("RESET lock_timeout");
        st.execute("RESET statement_timeout");
        return out;
      }
    } catch (SQLException e) {
      throw new LedgerException("vacuum of ledger " + ledger.url() + " failed: " + e.getMessage(), e);
    }
  }

  private static List<Space> sqlite(Statement st) throws SQLException {
    long before = sqliteSize(st);
    st.execute("VACUUM");
    st.execute("ANALYZE");
    return List.of(new Space("*", before, sqliteSize(st)));
  }

  private static long sqliteSize(Statement st) throws SQLException {
    try (var rs = st.executeQuery("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()")) {
      return rs.next() ? rs.getLong(1) : 0;
    }
  }

  private static List<Space> postgres(Connection c, Statement st) throws SQLException {
    List<String> tables = new ArrayList<>();
    try (var rs = st.executeQuery("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        + " ORDER BY tablename")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    return vacuum(c, st, tables, "ANALYZE");
  }

  /** {@code VACUUM (options)} of each table, with its size before and after. */
  private static List<Space> vacuum(Connection c, Statement st, List<String> tables, String options)
      throws SQLException {
    List<Space> out = new ArrayList<>();
    for (String table : tables) {
      long before = pgSize(c, table);
      st.execute("VACUUM (" + options + ") \"" + table.replace("\"", "\"\"") + "\"");
      out.add(new Space(table, before, pgSize(c, table)));
    }
    return out;
  }

  private static long pgSize(Connection c, String table) throws SQLException {
    try (var ps = c.prepareStatement("SELECT pg_total_relation_size(quote_ident(?))")) {
      ps.setString(1, table);
      try (var rs = ps.executeQuery()) {
        return rs.next() ? rs.getLong(1) : 0;
      }
    }
  }
}
