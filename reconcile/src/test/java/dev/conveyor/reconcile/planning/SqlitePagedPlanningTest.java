package dev.conveyor.reconcile.planning;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqlitePagedPlanningTest extends PagedPlanningContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
