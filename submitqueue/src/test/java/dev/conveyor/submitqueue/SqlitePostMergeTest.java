package dev.conveyor.submitqueue;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqlitePostMergeTest extends PostMergeContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
