package dev.conveyor.runway.service;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteRunwayServiceTest extends RunwayServiceContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
