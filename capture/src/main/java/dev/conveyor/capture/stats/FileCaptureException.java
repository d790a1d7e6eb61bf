package dev.conveyor.capture.stats;

/**
 * One file could not be captured; the message says which file and why, for a per-file failure.
 * {@link FileFailure#classify} decides what it means. A local fault (this worker could not write its
 * own scratch output) says nothing about the file and retries the group.
 */
public final class FileCaptureException extends Exception {
  private static final long serialVersionUID = 1L;
  private final boolean localFault;

  public FileCaptureException(String message, Throwable cause) {
    this(message, cause, false);
  }

  private FileCaptureException(String message, Throwable cause, boolean localFault) {
    super(message, cause);
    this.localFault = localFault;
  }

  /** The worker's own output failed (scratch space, disk full), not the file being read. */
  public static FileCaptureException localFault(String message, Throwable cause) {
    return new FileCaptureException(message, cause, true);
  }

  public boolean localFault() {
    return localFault;
  }
}
