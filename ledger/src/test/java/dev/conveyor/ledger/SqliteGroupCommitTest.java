package dev.conveyor.ledger;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteGroupCommitTest extends GroupCommitContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
