package dev.conveyor.submitqueue.checksignal;

import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;

/**
 * Runway's answer to the validation check. FAILED ends the request with Runway's reason (an answer,
 * so it is acked, not dead-lettered); a change that is already in the target is stale; otherwise
 * the request is VALIDATED and goes on to batching. Results for requests no longer waiting are ignored.
 */
public final class CheckSignalStage extends Stage<MergeResult> {
  private final StageContext ctx;

  public CheckSignalStage(StageContext ctx) {
    super(MergeResult.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, MergeResult result) throws SQLException {
    RequestRecord r = Requests.find(tx, result.getId()).orElse(null);
    if (r == null || r.state() != State.STARTED) {
      return false;
    }
    if (result.getOutcome() != Outcome.SUCCEEDED) {
      ctx.end(tx, r, State.ERROR, reasonOf(result));
      return true;
    }
    boolean present = result.getStepsCount() > 0
        && result.getStepsList().stream().allMatch(s -> s.getReason().equals("already present"));
    if (present) {
      ctx.end(tx, r, State.ERROR, "stale: the change is already in "
          + ctx.queue(r.queue()).git().branch());
      return true;
    }
    if (Requests.transition(tx, r, State.VALIDATED, null)) {
      ctx.signals().request(tx, SubmitQueueTopics.BATCH, r.queue(), r.requestId());
    }
    return true;
  }

  /**
   * Only a failure of the change's own step (a conflict, an unsupported shape) means the change does
   * not apply; a failure naming no step is about the request or Runway itself (a missing ref, a remote
   * that refused Runway, Runway giving up), and is reported as such.
   */
  static String reasonOf(MergeResult result) {
    boolean stepFailed = result.getStepsList().stream().anyMatch(s -> !s.getReason().isEmpty());
    return (stepFailed ? "the change does not apply: " : "runway could not check the change: ") + result.getReason();
  }
}
