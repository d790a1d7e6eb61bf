package dev.conveyor.capture.worker;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteWorkerNetworkTest extends WorkerNetworkContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
