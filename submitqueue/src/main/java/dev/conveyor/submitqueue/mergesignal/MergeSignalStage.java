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
import java.sql.SQLException;

/** Runway's merge result ends the MERGING batch; a result for a batch that is not merging is ignored. */
public final class MergeSignalStage extends Stage<MergeResult> {
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
    return true;
  }
}
