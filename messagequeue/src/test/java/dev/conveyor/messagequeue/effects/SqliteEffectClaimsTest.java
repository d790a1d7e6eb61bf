package dev.conveyor.messagequeue.effects;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

class SqliteEffectClaimsTest extends EffectClaimsContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
