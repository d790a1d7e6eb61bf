package dev.conveyor.runway.service;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.runway.StepResult;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.runway.merge.MergeOutcome;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * Builds and publishes {@link MergeResult}s: the correlation id and queue echoed, every step of the
 * request in order, and the reason on the step that failed.
 */
public final class MergeResults {
  private MergeResults() {}

  public static MergeResult of(MergeRequest request, MergeOutcome outcome) {
    if (outcome instanceof MergeOutcome.Failed failed) {
      return failed(request, failed.stepId(), failed.reason());
    }
    var succeeded = (MergeOutcome.Succeeded) outcome;
    Map<String, MergeOutcome.StepOutcome> byId = new HashMap<>();
    succeeded.steps().forEach(s -> byId.put(s.stepId(), s));
    MergeResult.Builder result = header(request).setOutcome(Outcome.SUCCEEDED);
    for (MergeStep step : request.getStepsList()) {
      MergeOutcome.StepOutcome s = byId.get(step.getStepId());
      StepResult.Builder r = StepResult.newBuilder().setStepId(step.getStepId());
      if (s != null) {
        s.outputs().forEach(o -> r.addOutputs(o.name()));
        s.bases().forEach(b -> r.addBases(b.name()));
        r.setReason(s.note());
      }
      result.addSteps(r);
    }
    return result.build();
  }

  /** A FAILED result; {@code stepId} (may be null) is the step the reason belongs to. */
  public static MergeResult failed(MergeRequest request, String stepId, String reason) {
    MergeResult.Builder result = header(request).setOutcome(Outcome.FAILED).setReason(reason);
    for (MergeStep step : request.getStepsList()) {
      StepResult.Builder r = StepResult.newBuilder().setStepId(step.getStepId());
      if (step.getStepId().equals(stepId)) {
        r.setReason(reason);
      }
      result.addSteps(r);
    }
    return result.build();
  }

  private static MergeResult.Builder header(MergeRequest request) {
    return MergeResult.newBuilder().setId(request.getId()).setQueueName(request.getQueueName());
  }

  /**
   * Publishes a result in the caller's transaction. Its message id is derived from the correlation
   * id, so a redelivered request cannot produce a second result: correlation ids must be unique.
   */
  public static void publish(Tx tx, Publisher publisher, TopicKey signal, MergeResult result) throws SQLException {
    String key = result.getQueueName().isBlank() ? result.getId() : result.getQueueName();
    publisher.publish(tx, signal, key, IntentId.of(result.getId(), signal.value()), ProtoJson.toBytes(result));
  }
}
