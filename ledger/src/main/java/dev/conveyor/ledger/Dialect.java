package dev.conveyor.ledger;

import java.sql.SQLException;
import java.util.Map;

/** Every SQL difference between the two backends lives here, and nowhere else. */
public enum Dialect {
  SQLITE("BLOB", "", "") {
    @Override
    public boolean isRetryable(SQLException e) {
      int primary = e.getErrorCode() & 0xff;
      return primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */;
    }

    @Override
    public boolean isUniqueViolation(SQLException e) {
      return e.getErrorCode() == 2067 /* SQLITE_CONSTRAINT_UNIQUE */
          || e.getErrorCode() == 1555 /* SQLITE_CONSTRAINT_PRIMARYKEY */
          || (e.getMessage() != null && e.getMessage().contains("UNIQUE constraint failed"));
    }
  },
  POSTGRESQL("BYTEA", " FOR UPDATE", " FOR UPDATE SKIP LOCKED") {
    @Override
    public boolean isRetryable(SQLException e) {
      String state = e.getSQLState();
      return state != null
          && (state.equals("40001") // serialization_failure
              || state.equals("40P01") // deadlock_detected
              || state.equals("55P03") // lock_not_available
              || state.startsWith("08")); // connection exceptions: the pool hands us a fresh one
    }

    @Override
    public boolean isUniqueViolation(SQLException e) {
      return "23505".equals(e.getSQLState());
    }
  };

  private final String bytesType;
  private final String forUpdate;
  private final String skipLocked;

  Dialect(String bytesType, String forUpdate, String skipLocked) {
    this.bytesType = bytesType;
    this.forUpdate = forUpdate;
    this.skipLocked = skipLocked;
  }

  /** Transient failures worth running the transaction again for. */
  public abstract boolean isRetryable(SQLException e);

  public abstract boolean isUniqueViolation(SQLException e);

  /** Row lock suffix for a SELECT; empty on SQLite, whose write transaction already holds the file lock. */
  public String forUpdate() {
    return forUpdate;
  }

  /** Row lock that skips rows other transactions hold; SQLite has one writer, so nothing to skip. */
  public String forUpdateSkipLocked() {
    return skipLocked;
  }

  /** Placeholders substituted into the shared Flyway migrations. */
  public Map<String, String> migrationPlaceholders() {
    return Map.of("bytes", bytesType);
  }
}
