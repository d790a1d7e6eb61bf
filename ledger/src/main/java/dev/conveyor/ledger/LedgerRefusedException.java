package dev.conveyor.ledger;

import java.sql.SQLException;

/**
 * The database refused a statement for a reason retrying cannot change: a constraint violation, bad
 * data, a syntax error, a missing database or role. Reported as such, never as "unavailable".
 */
public final class LedgerRefusedException extends LedgerException {
  private static final long serialVersionUID = 1L;
  private final String sqlState;

  public LedgerRefusedException(String context, SQLException cause) {
    super(context + " (deterministic: retrying cannot help; SQLState " + cause.getSQLState() + ", code "
        + cause.getErrorCode() + "): " + cause.getMessage(), cause);
    this.sqlState = cause.getSQLState();
  }

  /** The SQLState the database answered (null on SQLite, whose driver has none). */
  public String sqlState() {
    return sqlState;
  }
}
