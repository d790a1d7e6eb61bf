package dev.conveyor.ledger.testing;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import java.util.List;

/** Empties every Conveyor table between tests that share one database. */
public final class LedgerReset {
  private LedgerReset() {}

  public static void truncateAll(Ledger ledger) {
    ledger.transact(tx -> {
      String listSql = ledger.dialect() == Dialect.SQLITE
          ? "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
          : "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()";
      List<String> tables = tx.query(listSql, rs -> rs.getString(1));
      for (String table : tables) {
        if (!table.startsWith("flyway_")) {
          tx.update("DELETE FROM " + table);
        }
      }
      return null;
    });
  }
}
