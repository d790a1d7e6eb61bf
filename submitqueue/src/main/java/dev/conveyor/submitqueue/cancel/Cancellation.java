package dev.conveyor.submitqueue.cancel;

import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.RequestRefused;
import dev.conveyor.submitqueue.request.RequestRefused.Kind;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;

/**
 * Accepts a cancel: the request (and its batch, if it has one) become CANCELLING by compare-and-swap,
 * so a race with batching or with the planner's move to MERGING is decided by whichever commits first.
 * A batch handed to Runway cannot be cancelled.
 */
public final class Cancellation {
  private final Signals signals;

  public Cancellation(Signals signals) {
    this.signals = signals;
  }

  public RequestRecord cancel(Tx tx, String requestId, String why) throws SQLException {
    RequestRecord r = Requests.find(tx, requestId).orElseThrow(() -> new RequestRefused(Kind.REQUEST_NOT_FOUND,
        "no request '" + requestId + "'"));
    if (r.terminal()) {
      throw new RequestRefused(Kind.ALREADY_TERMINAL, "request " + requestId + " already ended " + r.state());
    }
    if (r.state() == State.CANCELLING) {
      return r;
    }
    if (r.batchId() != null) {
      BatchRecord b = Batches.get(tx, r.batchId());
      if (b.state() == BatchInfo.State.MERGING) {
        throw new RequestRefused(Kind.BATCH_MERGING, "request " + requestId + " is being merged by Runway (batch "
            + b.batchId() + ") and can no longer be cancelled");
      }
      if (!b.terminal() && b.state() != BatchInfo.State.CANCELLING
          && !Batches.transition(tx, b, BatchInfo.State.CANCELLING, why)) {
        throw new OptimisticConflictException("batch " + b.batchId() + " changed while cancelling");
      }
    }
    if (!Requests.transition(tx, r, State.CANCELLING, why)) {
      throw new OptimisticConflictException("request " + requestId + " changed while cancelling");
    }
    signals.request(tx, SubmitQueueTopics.CANCEL, r.queue(), requestId);
    return Requests.get(tx, requestId);
  }
}
