package dev.conveyor.runway.merge;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.queue.QueueConfig;
import java.util.List;

/**
 * A validated merge request: the queue, the steps in order with their strategies resolved
 * against the queue's default, and whether it is a dry run (the check topic) or a real merge.
 */
public record MergePlan(String requestId, QueueConfig queue, List<Step> steps, boolean dryRun) {
  public MergePlan {
    steps = List.copyOf(steps);
  }

  /** One step: the commits of one change (one head per URI, applied in order) and how to land them. */
  public record Step(String stepId, List<ChangeUri> changes, Strategy strategy) {
    public Step {
      changes = List.copyOf(changes);
    }
  }

  public List<ChangeUri> allChanges() {
    return steps.stream().flatMap(s -> s.changes().stream()).toList();
  }
}
