package dev.conveyor.submitqueue.build;

import dev.conveyor.api.submitqueue.BuildSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.speculate.PathRecord.PathState;
import dev.conveyor.submitqueue.speculate.Paths;
import java.sql.SQLException;

/** Re-plans the queue after a build's verdict (recording it on its path if not yet); a cancelled path keeps its end. */
public final class BuildSignalStage extends Stage<BuildSignal> {
  private final StageContext ctx;

  public BuildSignalStage(StageContext ctx) {
    super(BuildSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, BuildSignal s) throws SQLException {
    // the build worker records the verdict on the path as it completes the job; this covers a signal from
    // a worker that did not, and wakes the planner either way
    boolean recorded = Paths.finishBuild(tx, s.getPathId(), s.getJobId(), s.getPassed() ? PathState.PASSED
        : PathState.FAILED, s.getReason(), s.getConflictStep().isEmpty() ? null : s.getConflictStep());
    ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, s.getQueue(), s.getBatchId(), "build:" + s.getPathId() + "@" + s.getJobId());
    return recorded || Paths.find(tx, s.getPathId()).map(p -> p.state() != PathState.CANCELLED).orElse(false);
  }
}
