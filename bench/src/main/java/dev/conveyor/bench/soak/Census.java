package dev.conveyor.bench.soak;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Row counts of every ledger table and the database's size on disk, read without the writer lock. */
final class Census {
  private final Ledger ledger;

  Census(Ledger ledger) {
    this.ledger = ledger;
  }

  /** Every table of the ledger schema (Flyway's history excluded), in name order. */
  Map<String, Long> rowCounts() {
    return ledger.read(tx -> {
      List<String> tables = tx.query(ledger.dialect() == Dialect.POSTGRESQL
          ? "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
              + " AND table_type = 'BASE TABLE' ORDER BY table_name"
          : "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
          rs -> rs.getString(1));
      Map<String, Long> counts = new LinkedHashMap<>();
      for (String table : tables) {
        if (!table.startsWith("flyway_")) {
          counts.put(table, tx.queryLong("SELECT COUNT(*) FROM " + table));
        }
      }
      return counts;
    });
  }

  /** PostgreSQL: {@code pg_database_size}; SQLite: the database file and its write-ahead log. */
  long databaseBytes() throws IOException {
    if (ledger.dialect() == Dialect.POSTGRESQL) {
      return ledger.read(tx -> tx.queryLong("SELECT pg_database_size(current_database())"));
    }
    Path file = ledger.url().sqliteFile();
    Path wal = Path.of(file + "-wal");
    return Files.size(file) + (Files.exists(wal) ? Files.size(wal) : 0);
  }
}
