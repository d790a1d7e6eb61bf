package dev.conveyor.messagequeue.consume;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteWokenPartitionTest extends WokenPartitionContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
