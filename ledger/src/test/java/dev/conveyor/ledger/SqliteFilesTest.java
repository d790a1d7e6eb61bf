package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A SQLite ledger and its WAL and shared-memory files are readable by their owner only. */
class SqliteFilesTest {
  @TempDir Path dir;

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void aNewLedgerAndItsWalAndShmFilesAre0600() throws Exception {
    Path db = dir.resolve("new.db");
    try (Ledger ledger = Ledger.open("sqlite:" + db)) {
      ledger.transact(tx -> tx.update("UPDATE jobs SET version = version WHERE id = 'none'"));
      for (String f : new String[] {"new.db", "new.db-wal", "new.db-shm"}) {
        assertThat(mode(dir.resolve(f))).as(f).isEqualTo("rw-------");
      }
    }
  }

  @Test
  void anExistingWorldReadableLedgerIsTightenedWhenOpened() throws Exception {
    Path db = dir.resolve("old.db");
    try (Ledger ledger = Ledger.open("sqlite:" + db)) {
      ledger.transact(tx -> tx.update("UPDATE jobs SET version = version WHERE id = 'none'"));
    }
    Files.setPosixFilePermissions(db, PosixFilePermissions.fromString("rw-r--r--"));
    try (Ledger ledger = Ledger.open("sqlite:" + db)) {
      assertThat(mode(db)).isEqualTo("rw-------");
    }
  }
}
