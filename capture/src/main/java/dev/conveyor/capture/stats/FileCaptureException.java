package dev.conveyor.capture.stats;

/** One file could not be captured; the message says which file and why, for a per-file failure. */
public final class FileCaptureException extends Exception {
  private static final long serialVersionUID = 1L;

  public FileCaptureException(String message, Throwable cause) {
    super(message, cause);
  }
}
