package dev.conveyor.submitqueue.request;

/** A gateway call SubmitQueue refuses, with the kind a client can switch on and a message naming the problem. */
public final class RequestRefused extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public enum Kind { UNKNOWN_QUEUE, INVALID_ARGUMENT, INVALID_CHANGE_URI, CHANGE_ALREADY_QUEUED, REQUEST_NOT_FOUND,
    ALREADY_TERMINAL, BATCH_MERGING, BUILD_NOT_FOUND, QUEUE_DRAINING, NOT_REVERTIBLE }

  private final Kind kind;
  private final String holder;

  public RequestRefused(Kind kind, String message, String holder) {
    super(message);
    this.kind = kind;
    this.holder = holder;
  }

  public RequestRefused(Kind kind, String message) {
    this(kind, message, null);
  }

  public Kind kind() {
    return kind;
  }

  /** The live request that holds the change, for CHANGE_ALREADY_QUEUED. */
  public String holder() {
    return holder;
  }
}
