package dev.conveyor.submitqueue.build;

import dev.conveyor.api.submitqueue.BuildSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.speculate.PathRecord.PathState;
import dev.conveyor.submitqueue.speculate.Paths;
import java.sql.SQLException;

/** Records a finished build on its path and re-plans the queue; a result for a cancelled path is ignored. */
public final class BuildSignalStage extends Stage<BuildSignal> {
  private final StageContext ctx;

  public BuildSignalStage(StageContext ctx) {
    super(BuildSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, BuildSignal s) throws SQLException {
    if (!Paths.finish(tx, s.getPathId(), s.getPassed() ? PathState.PASSED : PathState.FAILED, s.getReason(),
        s.getConflictStep().isEmpty() ? null : s.getConflictStep())) {
      return false; // already recorded, or the path was cancelled first
    }
    ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, s.getQueue(), s.getBatchId(), "build:" + s.getPathId());
    return true;
  }
}
