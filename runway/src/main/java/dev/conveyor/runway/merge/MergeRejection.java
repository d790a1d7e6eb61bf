package dev.conveyor.runway.merge;

import java.util.List;

/**
 * The request cannot land as asked (a conflict, a missing commit, an invalid step): a FAILED
 * result, not a retry. Infrastructure failures are {@link java.io.IOException}s instead.
 */
public final class MergeRejection extends Exception {
  private static final long serialVersionUID = 1L;
  private final String stepId;
  private final List<String> paths;

  public MergeRejection(String stepId, String reason, List<String> paths) {
    super(reason);
    this.stepId = stepId;
    this.paths = List.copyOf(paths);
  }

  public MergeRejection(String stepId, String reason) {
    this(stepId, reason, List.of());
  }

  /** The step that failed, or null when the request as a whole is at fault. */
  public String stepId() {
    return stepId;
  }

  public List<String> paths() {
    return paths;
  }

  /** One line naming the step, the reason and the conflicting paths. */
  public String describe() {
    StringBuilder sb = new StringBuilder();
    if (stepId != null) {
      sb.append("step '").append(stepId).append("': ");
    }
    sb.append(getMessage());
    if (!paths.isEmpty()) {
      sb.append(" (conflicting paths: ").append(String.join(", ", paths)).append(')');
    }
    return sb.toString();
  }
}
