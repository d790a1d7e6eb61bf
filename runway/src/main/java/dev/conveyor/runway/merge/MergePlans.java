package dev.conveyor.runway.merge;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.change.InvalidChangeUriException;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Turns a {@link MergeRequest} into a {@link MergePlan}, or says precisely what is wrong with it. */
public final class MergePlans {
  private MergePlans() {}

  public static MergePlan plan(MergeRequest request, RunwayQueues queues, boolean dryRun) throws MergeRejection {
    if (request.getId().isBlank()) {
      throw new MergeRejection(null, "field 'id' (the correlation id) must not be empty");
    }
    QueueConfig queue = queues.find(request.getQueueName()).orElseThrow(() -> new MergeRejection(null,
        request.getQueueName().isBlank() ? "field 'queue_name' must not be empty"
            : "unknown queue '" + request.getQueueName() + "'; configured queues: " + queues.names()));
    if (request.getStepsCount() == 0) {
      throw new MergeRejection(null, "field 'steps' must name at least one step");
    }
    Set<String> stepIds = new HashSet<>();
    List<MergePlan.Step> steps = new ArrayList<>();
    for (int i = 0; i < request.getStepsCount(); i++) {
      MergeStep step = request.getSteps(i);
      String where = "steps[" + i + "]";
      if (step.getStepId().isBlank()) {
        throw new MergeRejection(null, "field '" + where + ".step_id' must not be empty");
      }
      if (!stepIds.add(step.getStepId())) {
        throw new MergeRejection(step.getStepId(), "step id '" + step.getStepId() + "' appears twice");
      }
      if (step.getStrategy() == Strategy.UNRECOGNIZED) {
        throw new MergeRejection(step.getStepId(), "field '" + where + ".strategy' is not a known strategy");
      }
      if (step.getChange().getUrisCount() == 0) {
        throw new MergeRejection(step.getStepId(), "field '" + where + ".change.uris' must name at least one commit");
      }
      List<ChangeUri> changes = new ArrayList<>();
      for (String uri : step.getChange().getUrisList()) {
        try {
          changes.add(ChangeUri.parse(uri));
        } catch (InvalidChangeUriException e) {
          throw new MergeRejection(step.getStepId(), e.getMessage());
        }
      }
      steps.add(new MergePlan.Step(step.getStepId(), changes, queue.resolve(step.getStrategy())));
    }
    return new MergePlan(request.getId(), queue, steps, dryRun);
  }
}
