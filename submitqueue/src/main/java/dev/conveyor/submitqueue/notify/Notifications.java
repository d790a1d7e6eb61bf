package dev.conveyor.submitqueue.notify;

import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.WebhookEvent;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import java.sql.SQLException;
import java.util.List;

/**
 * Publishes a queue's events for its webhook, in the transaction of the event itself (so an event is
 * sent if and only if it happened), keyed by the queue (so a queue's events are delivered in order).
 * A queue without a webhook publishes nothing.
 */
public final class Notifications {
  public static final TopicKey TOPIC = TopicKey.of("submitqueue.webhook");

  private final SubmitQueues queues;
  private final Signals signals;

  public Notifications(SubmitQueues queues, Signals signals) {
    this.queues = queues;
    this.signals = signals;
  }

  /** A request ended: request.landed, request.failed (ERROR) or request.cancelled. */
  public void requestEnded(Tx tx, String queue, String requestId, State state, String reason) throws SQLException {
    String event = switch (state) {
      case LANDED -> "request.landed";
      case ERROR -> "request.failed";
      case CANCELLED -> "request.cancelled";
      default -> null;
    };
    if (event == null) {
      return;
    }
    publish(tx, queue, IntentId.of(requestId, "webhook:" + event), WebhookEvent.newBuilder().setEvent(event)
        .setRequestId(requestId).setReason(reason == null ? "" : reason));
  }

  /** A build waits for the team's CI: what to fetch, build and report. */
  public void buildWanted(Tx tx, String queue, String buildId, String ref, String sha, List<String> checks,
      String remote) throws SQLException {
    publish(tx, queue, IntentId.of(buildId, "webhook:build.wanted"), WebhookEvent.newBuilder().setEvent("build.wanted")
        .setBuildId(buildId).setRef(ref).setSha(sha).addAllRequiredChecks(checks).setRemote(remote));
  }

  /** Post-merge verification found the target red at {@code sha} (the queue is paused with it). */
  public void mainRed(Tx tx, String queue, String sha, String checkId, String reason) throws SQLException {
    publish(tx, queue, IntentId.of(checkId, "webhook:main.red"), WebhookEvent.newBuilder().setEvent("main.red")
        .setSha(sha).setReason(reason == null ? "" : reason));
  }

  /** The queue was paused, set draining or resumed ({@code state}: paused, draining, resumed). */
  public void queueState(Tx tx, String queue, String state, String reason, String by) throws SQLException {
    publish(tx, queue, IntentId.of(queue, "webhook:queue." + state + "@" + tx.nowMillis()), WebhookEvent.newBuilder()
        .setEvent("queue." + state).setReason(reason == null ? "" : reason).setChangedBy(by == null ? "" : by));
  }

  private void publish(Tx tx, String queue, String id, WebhookEvent.Builder event) throws SQLException {
    if (queues.webhook(queue).isEmpty()) {
      return;
    }
    signals.publish(tx, TOPIC, queue, id, event.setId(id).setQueue(queue).setAtMs(tx.nowMillis()).build());
  }
}
