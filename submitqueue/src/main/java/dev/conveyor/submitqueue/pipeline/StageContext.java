package dev.conveyor.submitqueue.pipeline;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.speculate.SpeculationPlanner;

/** What every stage works with, wired once in {@link SubmitQueuePipeline}. */
public record StageContext(Ledger ledger, SubmitQueues queues, Signals signals, Merger merger,
    SpeculationPlanner planner) {

  /**
   * Ends request {@code from} in terminal state {@code to} (compare-and-swap, as {@link
   * dev.conveyor.submitqueue.request.Requests#transition}) and, when it did, tells the queue's webhook.
   */
  public boolean end(dev.conveyor.ledger.Tx tx, dev.conveyor.submitqueue.request.RequestRecord from,
      dev.conveyor.api.submitqueue.RequestInfo.State to, String reason) throws java.sql.SQLException {
    if (!dev.conveyor.submitqueue.request.Requests.transition(tx, from, to, reason)) {
      return false;
    }
    notifications().requestEnded(tx, from.queue(), from.requestId(), to, reason);
    return true;
  }

  public dev.conveyor.submitqueue.notify.Notifications notifications() {
    return new dev.conveyor.submitqueue.notify.Notifications(queues, signals);
  }

  public SubmitQueueConfig queue(String name) {
    return queues.find(name).orElseThrow(() -> new IllegalStateException("queue '" + name
        + "' is not configured for SubmitQueue (queues: " + queues.names() + ")"));
  }
}
