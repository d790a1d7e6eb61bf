package dev.conveyor.messagequeue.stream;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteIntentIdTest extends IntentIdContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
