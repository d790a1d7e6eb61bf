package dev.conveyor.ledger.maintenance;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteMaintenanceTest extends MaintenanceContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
