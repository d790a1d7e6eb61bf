package dev.conveyor.submitqueue.speculate;

import dev.conveyor.api.submitqueue.BatchSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import java.sql.SQLException;

/** Any event that may change what to build or merge (a new batch, a build result, an outcome) re-plans the queue. */
public final class SpeculateStage extends Stage<BatchSignal> {
  private final StageContext ctx;

  public SpeculateStage(StageContext ctx) {
    super(BatchSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected void apply(Tx tx, BatchSignal s) throws SQLException {
    ctx.planner().pass(tx, ctx.queue(s.getQueue()));
  }
}
