package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.SocketException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import org.junit.jupiter.api.Test;
import org.sqlite.SQLiteErrorCode;
import org.sqlite.SQLiteException;

class FailureKindTest {

  @Test
  void postgresStatesOfARestartOrFailoverAreUnavailable() {
    for (String state : new String[] {"57P01", "57P02", "57P03", "08006", "08001", "08003", "53300"}) {
      assertThat(FailureKind.of(new SQLException("x", state))).as(state).isEqualTo(FailureKind.UNAVAILABLE);
    }
  }

  @Test
  void aFullDiskOrExhaustedMemoryOnTheServerIsUnavailableNotTheRequestsFault() {
    for (String state : new String[] {"53000", "53100", "53200", "58000", "58030"}) {
      assertThat(FailureKind.of(new SQLException("x", state))).as(state).isEqualTo(FailureKind.UNAVAILABLE);
    }
    assertThat(FailureKind.of(new SQLiteException("full", SQLiteErrorCode.SQLITE_FULL)))
        .isEqualTo(FailureKind.UNAVAILABLE);
    assertThat(FailureKind.of(new SQLiteException("io", SQLiteErrorCode.SQLITE_IOERR_WRITE)))
        .isEqualTo(FailureKind.UNAVAILABLE);
  }

  @Test
  void conflictsAreContentionAndEverythingElseIsDeterministic() {
    for (String state : new String[] {"40001", "40P01", "55P03"}) {
      assertThat(FailureKind.of(new SQLException("x", state))).as(state).isEqualTo(FailureKind.CONTENTION);
    }
    for (String state : new String[] {"23505", "23502", "22001", "42601", "3D000", "28P01"}) {
      assertThat(FailureKind.of(new SQLException("x", state))).as(state).isEqualTo(FailureKind.DETERMINISTIC);
    }
    assertThat(FailureKind.of(new OptimisticConflictException("v"))).isEqualTo(FailureKind.CONTENTION);
    assertThat(FailureKind.of(new IllegalStateException("bug"))).isEqualTo(FailureKind.DETERMINISTIC);
  }

  @Test
  void sqliteBusyAndLockedAreContention() {
    assertThat(FailureKind.of(new SQLiteException("busy", SQLiteErrorCode.SQLITE_BUSY)))
        .isEqualTo(FailureKind.CONTENTION);
    assertThat(FailureKind.of(new SQLiteException("locked", SQLiteErrorCode.SQLITE_LOCKED_SHAREDCACHE)))
        .isEqualTo(FailureKind.CONTENTION);
    assertThat(FailureKind.of(new SQLiteException("unique", SQLiteErrorCode.SQLITE_CONSTRAINT_UNIQUE)))
        .isEqualTo(FailureKind.DETERMINISTIC);
  }

  @Test
  void poolTimeoutsSocketsAndWrappedCausesAreUnavailable() {
    assertThat(FailureKind.of(new SQLTransientConnectionException("ledger - Connection is not available")))
        .isEqualTo(FailureKind.UNAVAILABLE);
    assertThat(FailureKind.of(new IOException("push", new SocketException("Connection reset"))))
        .isEqualTo(FailureKind.UNAVAILABLE);
    assertThat(FailureKind.of(new RuntimeException("wrapped", new SQLException("x", "57P01"))))
        .isEqualTo(FailureKind.UNAVAILABLE);
    assertThat(FailureKind.of(new LedgerUnavailableException("down", null))).isEqualTo(FailureKind.UNAVAILABLE);
  }
}
