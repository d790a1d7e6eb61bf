package dev.conveyor.ledger;

import java.sql.SQLException;
import java.util.Map;

/** Every SQL difference between the two backends lives here, and nowhere else. */
public enum Dialect {
  SQLITE("BLOB", "", "") {
    @Override
    FailureKind classify(SQLException e) {
      int primary = e.getErrorCode() & 0xff;
      boolean busy = primary == 5 /* SQLITE_BUSY */ || primary == 6 /* SQLITE_LOCKED */;
      if (e instanceof org.sqlite.SQLiteException) {
        if (primary == 10 /* SQLITE_IOERR */ || primary == 13 /* SQLITE_FULL */) {
          return FailureKind.UNAVAILABLE; // the disk, not the statement: rides out until it is fixed
        }
        return busy ? FailureKind.CONTENTION : FailureKind.DETERMINISTIC;
      }
      // the driver's batch errors are plain SQLExceptions carrying the SQLite code and no SQLState
      return busy && e.getSQLState() == null ? FailureKind.CONTENTION : null;
    }

    @Override
    public String writeTransactionIdQuery() {
      return null; // a local file: a failed COMMIT did not commit
    }

    @Override
    public String databaseTimeQuery() {
      return null; // embedded: the database's clock is the host's
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
    FailureKind classify(SQLException e) {
      String state = e.getSQLState();
      if (state == null || state.length() != 5) {
        return null;
      }
      return switch (state) {
        case "40001", // serialization_failure
            "40P01", // deadlock_detected
            "55P03" -> FailureKind.CONTENTION; // lock_not_available
        case "57P01", // admin_shutdown: pg_terminate_backend, a restart, a failover
            "57P02", // crash_shutdown
            "57P03", // cannot_connect_now: starting up or shutting down
            "53000", // insufficient_resources
            "53100", // disk_full
            "53200", // out_of_memory
            "53300", // too_many_connections
            "58000", // system_error
            "58030", // io_error
            "40003" -> FailureKind.UNAVAILABLE; // statement_completion_unknown
        default -> state.startsWith("08") // connection exceptions: the pool hands us a fresh one
            ? FailureKind.UNAVAILABLE : state.startsWith("0") ? null : FailureKind.DETERMINISTIC;
      };
    }

    @Override
    public String writeTransactionIdQuery() {
      return "SELECT txid_current_if_assigned()";
    }

    @Override
    public String transactionStatusQuery() {
      return "SELECT txid_status(?)";
    }

    @Override
    public String databaseTimeQuery() {
      return "SELECT clock_timestamp()"; // the server's time now, not the transaction's start (now())
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

  /**
   * What this backend's error says, or null when it is not this backend's error (or says nothing).
   * Ask {@link FailureKind#of} instead: it walks the cause chain and knows the pool's errors too.
   */
  abstract FailureKind classify(SQLException e);

  /**
   * Run right before COMMIT: answers the id of the transaction if it wrote anything, or null. With it,
   * a connection lost during COMMIT can be resolved by {@link #transactionStatusQuery}. Null on a
   * backend where a failed COMMIT never committed.
   */
  public abstract String writeTransactionIdQuery();

  /** Answers 'committed', 'aborted' or 'in progress' for a transaction id; null where not needed. */
  public String transactionStatusQuery() {
    return null;
  }

  public abstract boolean isUniqueViolation(SQLException e);

  /**
   * Answers the database server's current time as a {@code timestamptz}; null where the database
   * runs in this process and its clock is the host's.
   */
  public abstract String databaseTimeQuery();

  /** Row lock suffix for a SELECT; empty on SQLite, whose write transaction already holds the file lock. */
  public String forUpdate() {
    return forUpdate;
  }

  /** Row lock that skips rows other transactions hold; SQLite has one writer, so nothing to skip. */
  public String forUpdateSkipLocked() {
    return skipLocked;
  }

  /**
   * Makes a scan of queued jobs walk {@code index} (a partial index of the ready rows, in lease order).
   * SQLite's planner, without statistics, prefers an equality index such as {@code (kind, state)} and
   * then sorts every queued row for each lease; the hint keeps a lease at the LIMIT's cost however long
   * the queue. PostgreSQL takes no hint: see {@link #filterOnly}.
   */
  public String scanUsing(String index) {
    return this == SQLITE ? " INDEXED BY " + index : "";
  }

  /**
   * {@code column} as an expression no index can serve, so the planner filters on it instead of choosing
   * an index by it. PostgreSQL, before {@code ANALYZE} has seen a burst of enqueued jobs (or with
   * autovacuum off), estimated one row for {@code kind = ? AND state = 'QUEUED'}, took {@code (kind, state)}
   * and sorted every queued row per lease (55 ms a lease on 37,000 queued); hiding {@code kind} leaves the
   * ready index, in lease order, as the plan whatever the statistics say.
   */
  public String filterOnly(String column) {
    return this == SQLITE ? "+" + column : "(" + column + " || '')";
  }

  /** Placeholders substituted into the shared Flyway migrations. */
  public Map<String, String> migrationPlaceholders() {
    return Map.of("bytes", bytesType);
  }
}
