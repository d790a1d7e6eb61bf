package dev.conveyor.submitqueue.gateway;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.submitqueue.GetQueueStateRequest;
import dev.conveyor.api.submitqueue.QueueControlGrpc;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.QueueStateInfo;
import dev.conveyor.api.submitqueue.SetQueueStateRequest;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.control.QueueStates;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRefused;
import io.grpc.stub.StreamObserver;
import java.sql.SQLException;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Pause, drain and resume a merge queue (the QueueControl service; serve maps it to the admin role).
 * A change is logged at INFO and in the queue's state log, and wakes the queue's planner, which starts
 * no build or merge while the queue is paused; admission refuses lands while it drains.
 */
public final class QueueControlService extends QueueControlGrpc.QueueControlImplBase {
  private static final Logger log = LoggerFactory.getLogger(QueueControlService.class);
  static final int MAX_REASON = 1024;

  private final Ledger ledger;
  private final SubmitQueues queues;
  private final Signals signals;

  private final dev.conveyor.submitqueue.revert.Reverts reverts;

  public QueueControlService(Ledger ledger, SubmitQueues queues, Signals signals,
      dev.conveyor.submitqueue.revert.Reverts reverts) {
    this.ledger = ledger;
    this.queues = queues;
    this.signals = signals;
    this.reverts = reverts;
  }

  @Override
  public void revert(dev.conveyor.api.submitqueue.RevertRequest request,
      StreamObserver<dev.conveyor.api.submitqueue.RevertResponse> response) {
    try {
      String id = Bounds.id("request_id", request.getRequestId());
      String by = Bounds.id("changed_by", request.getChangedBy());
      var done = reverts.revert(id, by);
      log.info("request {} is being reverted by {} as {} ({}){}", id, by, done.revertRequestId(), done.commit(),
          done.resumed() ? "; its queue was resumed" : "");
      response.onNext(dev.conveyor.api.submitqueue.RevertResponse.newBuilder()
          .setRevertRequestId(done.revertRequestId()).setCommit(done.commit()).setRef(done.ref())
          .setResumed(done.resumed()).build());
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
    }
  }

  @Override
  public void setQueueState(SetQueueStateRequest request, StreamObserver<QueueStateInfo> response) {
    try {
      String queue = known(request.getQueue());
      if (request.getState() != QueueState.QUEUE_ACTIVE && request.getState() != QueueState.QUEUE_PAUSED
          && request.getState() != QueueState.QUEUE_DRAINING) {
        throw new IllegalArgumentException("state must be QUEUE_ACTIVE, QUEUE_PAUSED or QUEUE_DRAINING");
      }
      String reason = request.getReason().isEmpty() ? null : Bounds.text("reason", request.getReason());
      if (reason != null && reason.length() > MAX_REASON) {
        throw new IllegalArgumentException("reason must be at most " + MAX_REASON + " characters");
      }
      String by = Bounds.id("changed_by", request.getChangedBy());
      QueueStateInfo info = ledger.transact(tx -> {
        QueueStates.lock(tx, queue); // after a post-merge verdict deciding at the same moment, not under it
        QueueStates.set(tx, queue, request.getState(), reason, by);
        new dev.conveyor.submitqueue.notify.Notifications(queues, signals).queueState(tx, queue,
            request.getState() == QueueState.QUEUE_PAUSED ? "paused"
                : request.getState() == QueueState.QUEUE_DRAINING ? "draining" : "resumed", reason, by);
        List<String> active = Batches.active(tx, queue);
        if (!active.isEmpty()) { // plan again: a resumed queue builds and merges what waited
          signals.batch(tx, SubmitQueueTopics.SPECULATE, queue, active.get(0), "queue-state-" + tx.nowMillis());
        }
        return info(tx, queue);
      });
      log.info("queue {} is {}", queue, QueueStates.get(ledger, queue).describe());
      response.onNext(info);
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
    }
  }

  @Override
  public void getQueueState(GetQueueStateRequest request, StreamObserver<QueueStateInfo> response) {
    try {
      String queue = known(request.getQueue());
      response.onNext(ledger.read(tx -> info(tx, queue)));
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
    }
  }

  private String known(String queue) {
    if (queue.isEmpty() || queues.find(queue).isEmpty()) {
      throw new RequestRefused(RequestRefused.Kind.UNKNOWN_QUEUE, "unknown queue '" + Bounds.text("queue", queue)
          + "'; configured queues: " + queues.names());
    }
    return queue;
  }

  private static QueueStateInfo info(Tx tx, String queue) throws SQLException {
    QueueStates.Current c = QueueStates.get(tx, queue);
    return QueueStateInfo.newBuilder().setQueue(queue).setState(c.state())
        .setReason(c.reason() == null ? "" : c.reason()).setChangedBy(c.changedBy() == null ? "" : c.changedBy())
        .setChangedAtMs(c.changedAtMillis())
        .setActiveRequests(tx.queryLong("SELECT COUNT(*) FROM sq_requests WHERE queue = ? AND state NOT IN"
            + " ('LANDED', 'ERROR', 'CANCELLED')", queue))
        .setRunningBuilds(dev.conveyor.submitqueue.speculate.Paths.building(tx, queue))
        .addAllHistory(QueueStates.history(tx, queue, 20)).build();
  }
}
