package dev.conveyor.reconcile.planning;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteLargeDirectoryPlanningTest extends LargeDirectoryPlanningContract {
  @TempDir static Path ledgerDir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + ledgerDir.resolve("ledger.db");
  }
}
