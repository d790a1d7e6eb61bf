package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresJobWakeupsTest extends JobWakeupsContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }

  @Override
  protected boolean hearsOtherProcesses() {
    return true;
  }
}
