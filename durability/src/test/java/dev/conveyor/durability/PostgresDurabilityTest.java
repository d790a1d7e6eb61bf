package dev.conveyor.durability;

import dev.conveyor.ledger.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresDurabilityTest extends DurabilityContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }
}
