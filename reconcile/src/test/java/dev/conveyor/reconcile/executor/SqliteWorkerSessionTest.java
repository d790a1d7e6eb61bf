package dev.conveyor.reconcile.executor;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteWorkerSessionTest extends WorkerSessionContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
