package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresBatchedFanOutTest extends BatchedFanOutContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }
}
