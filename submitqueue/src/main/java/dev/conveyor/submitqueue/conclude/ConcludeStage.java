package dev.conveyor.submitqueue.conclude;

import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.BatchSignal;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;

/**
 * Carries a terminal batch's outcome onto its member requests (LANDED, ERROR or CANCELLED), stops
 * its remaining builds and wakes its dependents and the queue's planner.
 */
public final class ConcludeStage extends Stage<BatchSignal> {
  private final StageContext ctx;

  public ConcludeStage(StageContext ctx) {
    super(BatchSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, BatchSignal s) throws SQLException {
    BatchRecord b = Batches.find(tx, s.getBatchId()).orElse(null);
    if (b == null || !b.terminal()) {
      return false;
    }
    conclude(tx, ctx, b);
    return true;
  }

  /** Also used by the dead-letter reconcilers, which must end a batch without re-running any stage. */
  public static void conclude(Tx tx, StageContext ctx, BatchRecord b) throws SQLException {
    ctx.planner().cancelAll(tx, b.batchId(), "batch " + b.batchId() + " ended " + b.state());
    if (b.state() == BatchInfo.State.SPLIT) {
      // its requests went on in other batches, which decide their outcomes
      ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), b.batchId(), "concluded");
      return;
    }
    State to = b.state() == BatchInfo.State.SUCCEEDED ? State.LANDED
        : b.state() == BatchInfo.State.CANCELLED ? State.CANCELLED : State.ERROR;
    for (String requestId : b.requestIds()) {
      RequestRecord r = Requests.get(tx, requestId);
      if (!r.terminal()) {
        ctx.end(tx, r, to, to == State.LANDED ? null : b.reason());
      }
    }
    for (String dependent : Batches.dependents(tx, b.batchId())) {
      ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), dependent, "dependency:" + b.batchId());
    }
    ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), b.batchId(), "concluded");
  }
}
