package dev.conveyor.ledger;

/**
 * A transient ledger failure that outlasted {@link Ledger#transact}'s retry budget: the database was
 * unreachable or stayed contended. Never a verdict on the work itself: callers retry it later and must
 * not count it against anything's last attempt. {@link #commitUnknown()} says the connection was lost
 * during COMMIT and the outcome could not be learned, so the work may or may not have committed.
 */
public final class LedgerUnavailableException extends LedgerException {
  private static final long serialVersionUID = 1L;
  private final boolean commitUnknown;

  public LedgerUnavailableException(String message, Throwable cause, boolean commitUnknown) {
    super(message, cause);
    this.commitUnknown = commitUnknown;
  }

  public LedgerUnavailableException(String message, Throwable cause) {
    this(message, cause, false);
  }

  public boolean commitUnknown() {
    return commitUnknown;
  }
}
