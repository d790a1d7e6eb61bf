package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.maintenance.Vacuum;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SQLite keeps prepared statements per physical connection: reused, bounded, and never left broken. */
class SqliteStatementCacheTest {
  @TempDir Path dir;

  @Test
  void statementsAreKeptAcrossTransactionsUpToTheBound() {
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults("sqlite:" + dir.resolve("c.db")).withPoolSize(1))) {
      ledger.transact(tx -> tx.update("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"));
      for (int i = 0; i < 50; i++) {
        int n = i;
        ledger.transact(tx -> tx.update("INSERT INTO t (k, v) VALUES (?, ?)", "k" + n, n));
      }
      int kept = ledger.transact(tx -> StatementCache.of(tx.connection()).size());
      assertThat(kept).as("one kept statement serves fifty inserts").isBetween(1, 3);
      for (int i = 0; i < StatementCache.MAX + 40; i++) {
        int n = i;
        ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM t WHERE v >= " + n));
      }
      int bounded = ledger.transact(tx -> StatementCache.of(tx.connection()).size());
      assertThat(bounded).isEqualTo(StatementCache.MAX);
      long sum = ledger.transact(tx -> tx.queryLong("SELECT SUM(v) FROM t"));
      assertThat(sum).isEqualTo(49L * 50 / 2);
    }
  }

  @Test
  void aStatementThatFailedIsNotKeptAndTheSameSqlRunsAgain() {
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults("sqlite:" + dir.resolve("f.db")).withPoolSize(1))) {
      ledger.transact(tx -> tx.update("CREATE TABLE t (k TEXT PRIMARY KEY, v INTEGER)"));
      String insert = "INSERT INTO t (k, v) VALUES (?, ?)";
      ledger.transact(tx -> tx.update(insert, "a", 1));
      assertThatThrownBy(() -> ledger.transact(tx -> tx.update(insert, "a", 2))).isInstanceOf(LedgerException.class);
      ledger.transact(tx -> tx.update(insert, "b", 3));
      // a query whose row mapping fails midway leaves nothing open behind it
      assertThatThrownBy(() -> ledger.transact(tx -> tx.query("SELECT k FROM t ORDER BY k", rs -> {
        throw new IllegalStateException("mapper gave up");
      }))).hasMessageContaining("mapper gave up");
      List<String> keys = ledger.transact(tx -> tx.query("SELECT k FROM t ORDER BY k", rs -> rs.getString(1)));
      assertThat(keys).containsExactly("a", "b");
    }
  }

  @Test
  void aQueryRunInsideTheRowsOfTheSameQueryGetsItsOwnStatement() {
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults("sqlite:" + dir.resolve("n.db")).withPoolSize(1))) {
      ledger.transact(tx -> tx.update("CREATE TABLE t (k INTEGER PRIMARY KEY)"));
      ledger.transact(tx -> tx.batch("INSERT INTO t (k) VALUES (?)", List.of(new Object[] {1}, new Object[] {2},
          new Object[] {3})));
      String below = "SELECT k FROM t WHERE k < ? ORDER BY k";
      List<String> pairs = ledger.transact(tx -> tx.query(below, rs -> {
        long k = rs.getLong(1);
        return k + ":" + tx.query(below, inner -> inner.getLong(1), k + 1).size();
      }, 4));
      assertThat(pairs).containsExactly("1:1", "2:2", "3:3");
    }
  }

  @Test
  void vacuumRunsWhileStatementsAreKept() {
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("v.db"))) {
      for (int i = 0; i < 20; i++) {
        ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs"));
        ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs"));
      }
      assertThat(Vacuum.run(ledger)).isNotEmpty();
    }
  }
}
