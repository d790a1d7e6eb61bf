package dev.conveyor.submitqueue.start;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.ledger.Tx;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.change.InvalidChangeUriException;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.RequestRefused;
import dev.conveyor.submitqueue.request.RequestRefused.Kind;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * Accepts a land request: the queue must exist, at most {@link Bounds#MAX_CHANGE_URIS} change URIs
 * of at most {@link Bounds#MAX_URI_BYTES} bytes each must parse, and no live request may
 * hold the same change. The request is stored STARTED and handed to the start stage in one
 * transaction, so an accepted request is never lost and a refused one leaves nothing.
 */
public final class Admission {
  private final SubmitQueues queues;
  private final Signals signals;

  public Admission(SubmitQueues queues, Signals signals) {
    this.queues = queues;
    this.signals = signals;
  }

  /** Checks the input before any transaction; answers the canonical URIs. */
  public List<String> validate(String queue, List<String> uris, Strategy strategy) {
    // bounds first: nothing oversize is parsed, looked up or stored (it would land on every status page)
    Bounds.required("queue", queue, Bounds.MAX_QUEUE_BYTES);
    Bounds.entries("change.uris", uris, Bounds.MAX_CHANGE_URIS, Bounds.MAX_URI_BYTES);
    if (queues.find(queue).isEmpty()) {
      throw new RequestRefused(Kind.UNKNOWN_QUEUE, "unknown queue '" + queue + "'; configured queues: "
          + queues.names());
    }
    if (uris.isEmpty()) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'change.uris' must name at least one change URI");
    }
    if (strategy == Strategy.UNRECOGNIZED) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'strategy' is not a known strategy");
    }
    List<String> canonical = new ArrayList<>();
    for (String uri : uris) {
      try {
        canonical.add(ChangeUri.parse(uri).toString());
      } catch (InvalidChangeUriException e) {
        throw new RequestRefused(Kind.INVALID_CHANGE_URI, e.getMessage());
      }
    }
    return canonical;
  }

  public RequestRecord land(Tx tx, String queue, List<String> canonicalUris, Strategy strategy) throws SQLException {
    return land(tx, queue, canonicalUris, strategy, 0);
  }

  /** {@code priority}: higher is batched and built first (see {@link RequestRecord#MAX_PRIORITY}). */
  public RequestRecord land(Tx tx, String queue, List<String> canonicalUris, Strategy strategy, int priority)
      throws SQLException {
    if (priority < RequestRecord.MIN_PRIORITY || priority > RequestRecord.MAX_PRIORITY) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "priority must be between " + RequestRecord.MIN_PRIORITY
          + " and " + RequestRecord.MAX_PRIORITY + ", got " + priority);
    }
    var state = dev.conveyor.submitqueue.control.QueueStates.get(tx, queue);
    if (state.draining()) {
      throw new RequestRefused(Kind.QUEUE_DRAINING, "queue '" + queue + "' is " + state.describe()
          + "; it admits nothing new until resumed ('conveyor queue resume " + queue + "')");
    }
    var holder = Requests.liveHolder(tx, queue, canonicalUris);
    if (holder.isPresent()) {
      throw new RequestRefused(Kind.CHANGE_ALREADY_QUEUED, "the change is already held by live request "
          + holder.get().requestId() + " (" + holder.get().state() + "); land it again once that one has ended",
          holder.get().requestId());
    }
    long n = Requests.allocate(tx, queue);
    RequestRecord r = Requests.create(tx, queue, n, canonicalUris, strategy, priority);
    signals.request(tx, SubmitQueueTopics.START, queue, r.requestId());
    return r;
  }
}
