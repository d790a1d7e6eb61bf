package dev.conveyor.submitqueue.mergesignal;

import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.submitqueue.BatchInfo.State;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.health.LandedCommits;
import dev.conveyor.submitqueue.health.Verifications;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/** Runway's merge result ends the MERGING batch; a result for a batch that is not merging is ignored. */
public final class MergeSignalStage extends Stage<MergeResult> {
  /** The target's new tip: the last output of the last step that made one; null when nothing was pushed. */
  static String landedTip(MergeResult result) {
    String tip = null;
    for (var step : result.getStepsList()) {
      if (step.getOutputsCount() > 0) {
        tip = step.getOutputs(step.getOutputsCount() - 1);
      }
    }
    return tip;
  }

  private final StageContext ctx;

  public MergeSignalStage(StageContext ctx) {
    super(MergeResult.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, MergeResult result) throws SQLException {
    BatchRecord b = Batches.find(tx, result.getId()).orElse(null);
    if (b == null || b.state() != State.MERGING) {
      return false;
    }
    boolean merged = result.getOutcome() == Outcome.SUCCEEDED;
    if (!Batches.transition(tx, b, merged ? State.SUCCEEDED : State.FAILED,
        merged ? null : "merge failed: " + result.getReason())) {
      return false;
    }
    ctx.signals().batch(tx, SubmitQueueTopics.CONCLUDE, b.queue(), b.batchId(), merged ? "merged" : "merge-failed");
    if (merged) {
      dev.conveyor.submitqueue.speculate.Landings.record(tx, b.queue(), b.batchId());
      List<LandedCommits.Step> steps = new ArrayList<>();
      for (var step : result.getStepsList()) {
        steps.add(new LandedCommits.Step(step.getStepId(), step.getOutputsList(), step.getBasesList()));
      }
      LandedCommits.record(tx, b.queue(), b.batchId(), steps);
    }
    String landed = merged ? landedTip(result) : null;
    if (landed != null) { // verify the commit the batch put on the target (when the queue has a post-merge-command)
      Verifications.enqueue(tx, ctx.ledger().jobs(), ctx.queues(), b.queue(), b.batchId(), landed,
          "post-merge/" + b.batchId());
    }
    return true;
  }
}
