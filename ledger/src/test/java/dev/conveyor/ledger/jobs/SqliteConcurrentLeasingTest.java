package dev.conveyor.ledger.jobs;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** Two pools on one SQLite file contend for its single write lock across "nodes". */
class SqliteConcurrentLeasingTest extends ConcurrentLeasingContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @Override
  protected int jobCount() {
    return 1_000;
  }
}
