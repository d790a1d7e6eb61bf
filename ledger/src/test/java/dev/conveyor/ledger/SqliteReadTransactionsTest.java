package dev.conveyor.ledger;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteReadTransactionsTest extends ReadTransactionsContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
