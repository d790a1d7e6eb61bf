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
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.BuildSpec;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import java.sql.SQLException;

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
    }
    String landed = merged ? landedTip(result) : null;
    var postMerge = ctx.queues().postMerge(b.queue());
    if (landed != null && postMerge.isPresent()) { // verify the commit the batch put on the target
      var queue = ctx.queue(b.queue());
      BuildSpec spec = BuildSpec.newBuilder().setQueue(b.queue()).setBatchId(b.batchId())
          .setPathId("post-merge/" + b.batchId()).setCommand(postMerge.get())
          .setTimeoutMs(queue.buildTimeout().toMillis()).setVerifySha(landed).build();
      ctx.ledger().jobs().enqueue(tx, JobSpec.builder(JobKind.BUILD).executionClass("build")
          .dedupeKey("post-merge:" + b.batchId()).payload(ProtoJson.toBytes(spec)).maxAttempts(3).build());
    }
    return true;
  }
}
