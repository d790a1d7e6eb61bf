package dev.conveyor.app.maintenance;

import dev.conveyor.ledger.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresRetentionTest extends RetentionContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }
}
