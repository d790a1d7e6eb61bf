package dev.conveyor.app.admin;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.testing.Cli;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.PostgresDatabase;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/** {@code conveyor admin vacuum} on a PostgreSQL ledger: VACUUM (ANALYZE) of every ledger table. */
class PostgresAdminVacuumTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();
  @TempDir Path data;

  @Test
  void vacuumsEveryLedgerTable() {
    Ledger.open(pg.url()).close(); // migrated
    Cli.Run run = Cli.run("admin", "vacuum", "--data-dir", data.toString(), "--ledger", pg.url());
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("jobs").contains("ledger_leaders").contains("sq_build_logs")
        .contains("vacuumed ledger postgresql://");
  }
}
