package dev.conveyor.runway.merge;

/**
 * A tree that cannot be written out safely (an entry that could escape the build directory or
 * alias another): the same on every attempt, so a build fails on it rather than retrying.
 */
public final class UnsafeTreeException extends Exception {
  private static final long serialVersionUID = 1L;

  public UnsafeTreeException(String reason) {
    super(reason);
  }
}
