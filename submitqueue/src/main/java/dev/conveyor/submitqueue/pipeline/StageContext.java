package dev.conveyor.submitqueue.pipeline;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.speculate.SpeculationPlanner;

/** What every stage works with, wired once in {@link SubmitQueuePipeline}. */
public record StageContext(Ledger ledger, SubmitQueues queues, Signals signals, Merger merger,
    SpeculationPlanner planner) {

  public SubmitQueueConfig queue(String name) {
    return queues.find(name).orElseThrow(() -> new IllegalStateException("queue '" + name
        + "' is not configured for SubmitQueue (queues: " + queues.names() + ")"));
  }
}
