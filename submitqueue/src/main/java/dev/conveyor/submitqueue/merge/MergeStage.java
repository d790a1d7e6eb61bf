package dev.conveyor.submitqueue.merge;

import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.submitqueue.BatchInfo.State;
import dev.conveyor.api.submitqueue.BatchSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;

/** Hands a MERGING batch to Runway: one step per member request, in order; the batch id is the correlation id. */
public final class MergeStage extends Stage<BatchSignal> {
  private final StageContext ctx;

  public MergeStage(StageContext ctx) {
    super(BatchSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, BatchSignal s) throws SQLException {
    BatchRecord b = Batches.find(tx, s.getBatchId()).orElse(null);
    if (b == null || b.state() != State.MERGING) {
      return false;
    }
    MergeRequest.Builder request = MergeRequest.newBuilder().setId(b.batchId()).setQueueName(b.queue());
    for (String requestId : b.requestIds()) {
      RequestRecord r = Requests.get(tx, requestId);
      request.addSteps(MergeStep.newBuilder().setStepId(requestId).setChange(r.change()).setStrategy(r.strategy()));
    }
    ctx.signals().publish(tx, RunwayTopics.MERGE, b.queue(), IntentId.of(b.batchId(), RunwayTopics.MERGE.value()),
        request.build());
    return true;
  }
}
