package dev.conveyor.ledger.jobs;

/** How a lease holder ends its attempt. */
public sealed interface Completion {
  String message();

  record Succeeded(String message) implements Completion {}

  record Failed(String message, Disposition disposition) implements Completion {
    public Failed {
      if (disposition == null) {
        throw new IllegalArgumentException("a failure needs a retry disposition");
      }
    }
  }

  record Cancelled(String message) implements Completion {}

  enum Disposition {
    /** Try again after backoff, unless attempts are exhausted. */
    RETRYABLE,
    /** Never try again. */
    TERMINAL,
    /** Something else must happen first; try again later without consuming an attempt. */
    WAITING_ON_DEPENDENCY
  }

  static Completion succeeded() {
    return new Succeeded(null);
  }
}
