package dev.conveyor.submitqueue.cancel;

import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.RequestSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Finishes a cancel the gateway accepted: an unbatched request is CANCELLED at once; a batched one
 * takes its CANCELLING batch down (builds cancelled, batch CANCELLED) and conclude does the rest.
 */
public final class CancelStage extends Stage<RequestSignal> {
  private final StageContext ctx;

  public CancelStage(StageContext ctx) {
    super(RequestSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  @Override
  protected boolean apply(Tx tx, RequestSignal s) throws SQLException {
    RequestRecord r = Requests.find(tx, s.getRequestId()).orElse(null);
    if (r == null || r.state() != State.CANCELLING) {
      return false;
    }
    if (r.batchId() == null) {
      ctx.end(tx, r, State.CANCELLED, r.reason());
      return true;
    }
    BatchRecord b = Batches.get(tx, r.batchId());
    if (b.state() == BatchInfo.State.SPLIT) {
      ctx.end(tx, r, State.CANCELLED, r.reason()); // the batch went on without this request
      return true;
    }
    if (b.state() == BatchInfo.State.CANCELLING) {
      ctx.planner().cancelAll(tx, b.batchId(), "request " + r.requestId() + " was cancelled");
      List<String> staying = new ArrayList<>();
      for (String member : b.requestIds()) {
        RequestRecord m = Requests.get(tx, member);
        if (!m.terminal() && m.state() != State.CANCELLING) {
          staying.add(member);
        }
      }
      if (!staying.isEmpty()) {
        // the batch's other requests did nothing wrong: they go on in a batch of their own
        List<String> rest = Batches.split(tx, b, List.of(staying), false, "request " + r.requestId()
            + " was cancelled; the batch's other requests go on in " + b.batchId() + ".1");
        ctx.end(tx, r, State.CANCELLED, r.reason());
        ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), rest.get(0), "rest-after-cancel");
        return true;
      }
      if (Batches.transition(tx, b, BatchInfo.State.CANCELLED, "cancelled: request " + r.requestId())) {
        ctx.signals().batch(tx, SubmitQueueTopics.CONCLUDE, b.queue(), b.batchId(), "cancelled");
      }
    }
    return true;
  }
}
