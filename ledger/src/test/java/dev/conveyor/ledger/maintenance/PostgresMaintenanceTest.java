package dev.conveyor.ledger.maintenance;

import dev.conveyor.ledger.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresMaintenanceTest extends MaintenanceContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }
}
