package dev.conveyor.capture.worker;

import dev.conveyor.ledger.testing.PostgresDatabase;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresWorkerNetworkTest extends WorkerNetworkContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }
}
