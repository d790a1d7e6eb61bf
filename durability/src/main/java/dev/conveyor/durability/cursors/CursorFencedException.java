package dev.conveyor.durability.cursors;

/** A cursor commit carried an epoch that a later acquisition replaced (or the consumer never acquired one). */
public final class CursorFencedException extends RuntimeException {
  public CursorFencedException(String message) {
    super(message);
  }
}
