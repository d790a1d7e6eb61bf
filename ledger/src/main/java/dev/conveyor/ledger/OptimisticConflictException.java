package dev.conveyor.ledger;

/**
 * A row changed under us (version mismatch, or a concurrent insert won a unique key).
 * Retryable: {@link Ledger#transact} runs the whole transaction again.
 */
public final class OptimisticConflictException extends LedgerException {
  private static final long serialVersionUID = 1L;

  public OptimisticConflictException(String message) {
    super(message);
  }
}
