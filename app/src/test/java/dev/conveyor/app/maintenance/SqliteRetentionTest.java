package dev.conveyor.app.maintenance;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteRetentionTest extends RetentionContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
