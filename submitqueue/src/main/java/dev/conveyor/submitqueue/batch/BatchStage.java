package dev.conveyor.submitqueue.batch;

import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.RequestSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.List;

/**
 * Puts a validated request in a batch with its dependencies. The batch id derives from the request,
 * and the request's move to BATCHED is a compare-and-swap in the same transaction: a redelivery finds
 * the request already batched, and a cancel that won the race leaves no batch behind.
 */
public final class BatchStage extends Stage<RequestSignal> {
  private final StageContext ctx;

  public BatchStage(StageContext ctx) {
    super(RequestSignal.getDefaultInstance());
    this.ctx = ctx;
  }

  public static String batchIdOf(RequestRecord r) {
    return r.queue() + "/b" + r.n();
  }

  @Override
  protected void apply(Tx tx, RequestSignal s) throws SQLException {
    RequestRecord r = Requests.find(tx, s.getRequestId()).orElse(null);
    if (r == null || r.state() != State.VALIDATED) {
      return;
    }
    var queue = ctx.queue(r.queue());
    String batchId = batchIdOf(r);
    List<String> deps = ConflictAnalysis.dependencies(tx, queue, new HashSet<>(r.paths()));
    if (!Requests.batched(tx, r, batchId)) {
      return;
    }
    Batches.createIfAbsent(tx, batchId, r.queue(), r.n(), List.of(r.requestId()), deps);
    ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, r.queue(), batchId, "created");
  }
}
