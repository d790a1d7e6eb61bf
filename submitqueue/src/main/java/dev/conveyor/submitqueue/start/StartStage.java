package dev.conveyor.submitqueue.start;

import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.RequestSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.Stage;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;

/** A request the gateway accepted enters the pipeline: on to validation unless it was cancelled first. */
public final class StartStage extends Stage<RequestSignal> {
  private final Signals signals;

  public StartStage(Signals signals) {
    super(RequestSignal.getDefaultInstance());
    this.signals = signals;
  }

  @Override
  protected boolean apply(Tx tx, RequestSignal s) throws SQLException {
    var r = Requests.find(tx, s.getRequestId());
    if (r.isEmpty() || r.get().state() != State.STARTED) {
      return false;
    }
    signals.perRequest(tx, SubmitQueueTopics.VALIDATE, r.get().queue(), r.get().requestId());
    return true;
  }
}
