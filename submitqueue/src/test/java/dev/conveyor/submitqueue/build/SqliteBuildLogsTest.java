package dev.conveyor.submitqueue.build;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteBuildLogsTest extends BuildLogsContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
