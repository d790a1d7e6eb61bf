package dev.conveyor.ledger.jobs;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteJobWakeupsTest extends JobWakeupsContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @Override
  protected boolean hearsOtherProcesses() {
    return false;
  }
}
