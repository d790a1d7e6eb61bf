package dev.conveyor.submitqueue.speculate;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqlitePlannerRebuildTest extends PlannerRebuildContract {
  @TempDir
  static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
