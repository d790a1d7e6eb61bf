package dev.conveyor.ledger;

import java.io.EOFException;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;

/**
 * The one classification of ledger failures. Every retry loop (the ledger's own, consumers, build
 * completions, gRPC mapping) asks this, so "transient" means the same thing everywhere:
 * <ul>
 *   <li>{@link #UNAVAILABLE}: the database is unreachable or going away (connection loss, admin or
 *       crash shutdown, cannot connect now, too many connections, a pool timeout). Rides out a restart
 *       or failover.
 *   <li>{@link #CONTENTION}: another transaction won (serialization failure, deadlock, lock not
 *       available, SQLite busy/locked, an optimistic version conflict). Running it again resolves it.
 *   <li>{@link #DETERMINISTIC}: anything else (constraint violations, bad data, syntax). Retrying the
 *       same statement cannot help.
 * </ul>
 */
public enum FailureKind {
  UNAVAILABLE,
  CONTENTION,
  DETERMINISTIC;

  public boolean isTransient() {
    return this != DETERMINISTIC;
  }

  /** Classifies a failure by the first cause in its chain that says anything. */
  public static FailureKind of(Throwable error) {
    int depth = 0;
    for (Throwable t = error; t != null && depth < 32; t = t.getCause(), depth++) {
      FailureKind kind = own(t);
      if (kind != null) {
        return kind;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return DETERMINISTIC;
  }

  private static FailureKind own(Throwable t) {
    if (t instanceof LedgerUnavailableException) {
      return UNAVAILABLE;
    }
    if (t instanceof OptimisticConflictException) {
      return CONTENTION;
    }
    if (t instanceof LedgerRefusedException) {
      return DETERMINISTIC;
    }
    if (t instanceof SQLTransientConnectionException) {
      return UNAVAILABLE; // Hikari: no connection within the pool's timeout
    }
    if (t instanceof SQLException sql) {
      for (Dialect d : Dialect.values()) {
        FailureKind k = d.classify(sql);
        if (k != null) {
          return k;
        }
      }
      return null; // a wrapper; its cause may say more
    }
    if (t instanceof SocketException || t instanceof SocketTimeoutException || t instanceof EOFException) {
      return UNAVAILABLE;
    }
    return null;
  }
}
