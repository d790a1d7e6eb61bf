package dev.conveyor.app.web;

/**
 * How much of the ledger one status snapshot shows: the newest N of each section, with counts of the
 * rest ("omitted…" fields), and text cut at {@code textChars}. The snapshot is pushed whole to every
 * viewer, so its size must not grow with the ledger: with the defaults it stays around a megabyte
 * even when every row carries the largest input the public RPCs accept.
 */
public record StatusLimits(int queues, int requestsPerQueue, int changesPerRequest, int stepsPerRequest,
    int batchesPerQueue, int pathsPerBatch, int captureRoots, int nodesPerCapture, int unreadablePerSnapshot,
    int topics, int lettersPerTopic, int textChars) {
  public static final StatusLimits DEFAULT = new StatusLimits(20, 50, 5, 12, 20, 12, 20, 100, 10, 100, 20, 300);

  public StatusLimits {
    if (queues < 1 || requestsPerQueue < 1 || changesPerRequest < 1 || stepsPerRequest < 1 || batchesPerQueue < 1
        || pathsPerBatch < 1 || captureRoots < 1 || nodesPerCapture < 1 || unreadablePerSnapshot < 0 || topics < 1
        || lettersPerTopic < 1 || textChars < 16) {
      throw new IllegalArgumentException("status limits must be positive: " + this);
    }
  }

  /** {@code text} cut to {@link #textChars} characters, ending in "…" when cut; null stays null. */
  String cut(String text) {
    return text == null || text.length() <= textChars ? text : text.substring(0, textChars - 1) + "…";
  }
}
