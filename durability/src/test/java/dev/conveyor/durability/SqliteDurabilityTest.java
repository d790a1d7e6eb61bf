package dev.conveyor.durability;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteDurabilityTest extends DurabilityContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
