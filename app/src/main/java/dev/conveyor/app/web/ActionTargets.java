package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.conveyor.api.reconcile.CancelJobRequest;
import dev.conveyor.api.reconcile.CancelJobResponse;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.CancelResponse;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.QueueStateInfo;
import dev.conveyor.api.submitqueue.SetQueueStateRequest;
import dev.conveyor.messagequeue.consume.DeadLetters;
import dev.conveyor.reconcile.control.ReconcileControlService;
import dev.conveyor.submitqueue.gateway.GatewayService;
import dev.conveyor.submitqueue.gateway.QueueControlService;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.function.BiConsumer;

/**
 * Where the page's actions land: the same gRPC service implementations the CLI reaches (so validation, state
 * rules and error reasons are theirs), called in process, and the merge queue's dead letters. A part this node
 * does not run is null, and its actions are not offered.
 */
public final class ActionTargets {
  private final GatewayService gateway;
  private final QueueControlService queues;
  private final ReconcileControlService captures;
  private final DeadLetters deadLetters;

  public ActionTargets(GatewayService gateway, QueueControlService queues, ReconcileControlService captures,
      DeadLetters deadLetters) {
    this.gateway = gateway;
    this.queues = queues;
    this.captures = captures;
    this.deadLetters = deadLetters;
  }

  GatewayService gateway() {
    return gateway;
  }

  ReconcileControlService captures() {
    return captures;
  }

  boolean offers(PageActions.Action action) {
    return switch (action) {
      case CANCEL_REQUEST -> gateway != null;
      case PAUSE_QUEUE, RESUME_QUEUE, DRAIN_QUEUE -> queues != null;
      case REDRIVE_DEAD_LETTER, DISCARD_DEAD_LETTER -> deadLetters != null;
      case CANCEL_CAPTURE -> captures != null;
    };
  }

  /** One action's fields, checked: each is bounded and named in a refusal; unknown fields are refused. */
  record Request(String target, String reason, long seq) {
    private static final Map<PageActions.Action, Set<String>> FIELDS = Map.of(
        PageActions.Action.CANCEL_REQUEST, Set.of("request"),
        PageActions.Action.PAUSE_QUEUE, Set.of("queue", "reason"),
        PageActions.Action.RESUME_QUEUE, Set.of("queue", "reason"),
        PageActions.Action.DRAIN_QUEUE, Set.of("queue", "reason"),
        PageActions.Action.REDRIVE_DEAD_LETTER, Set.of("topic", "seq"),
        PageActions.Action.DISCARD_DEAD_LETTER, Set.of("topic", "seq"),
        PageActions.Action.CANCEL_CAPTURE, Set.of("job", "reason"));

    static Request parse(PageActions.Action action, JsonNode body) {
      if (body == null || !body.isObject()) {
        throw new IllegalArgumentException("the body must be a JSON object with " + FIELDS.get(action));
      }
      for (String name : PageActions.fieldNames(body)) {
        if (!FIELDS.get(action).contains(name)) {
          throw new IllegalArgumentException(name + ": not a field of " + action.path + " (fields: "
              + new java.util.TreeSet<>(FIELDS.get(action)) + ")");
        }
      }
      String reason = text(body, "reason", 1024, false);
      return switch (action) {
        case CANCEL_REQUEST -> new Request(text(body, "request", 256, true), "", 0);
        case PAUSE_QUEUE, RESUME_QUEUE, DRAIN_QUEUE -> new Request(text(body, "queue", 128, true), reason, 0);
        case CANCEL_CAPTURE -> new Request(text(body, "job", 256, true), reason, 0);
        case REDRIVE_DEAD_LETTER, DISCARD_DEAD_LETTER -> {
          String topic = text(body, "topic", 255, true);
          JsonNode seq = body.get("seq");
          if (seq == null || !seq.canConvertToLong() || !seq.isIntegralNumber() || seq.asLong() < 1) {
            throw new IllegalArgumentException("seq: the dead letter's sequence number, a whole number of at least 1");
          }
          yield new Request(topic + "#" + seq.asLong(), "", seq.asLong());
        }
      };
    }

    private static String text(JsonNode body, String field, int max, boolean required) {
      JsonNode v = body.get(field);
      if (v == null || v.isNull()) {
        if (required) {
          throw new IllegalArgumentException(field + ": required");
        }
        return "";
      }
      if (!v.isTextual()) {
        throw new IllegalArgumentException(field + ": a string");
      }
      String s = v.asText();
      if (required && s.isBlank()) {
        throw new IllegalArgumentException(field + ": required");
      }
      if (s.length() > max) {
        throw new IllegalArgumentException(field + ": at most " + max + " characters");
      }
      return s;
    }

    String topic() {
      return target.substring(0, target.lastIndexOf('#'));
    }
  }

  /** Does the action as {@code actor}; answers what happened in one line, or throws the service's refusal. */
  String perform(PageActions.Action action, Request r, String actor) {
    return switch (action) {
      case CANCEL_REQUEST -> {
        CancelResponse done = call(gateway::cancel, CancelRequest.newBuilder().setRequestId(r.target()).build());
        yield "request " + r.target() + " is " + done.getRequest().getState();
      }
      case PAUSE_QUEUE, RESUME_QUEUE, DRAIN_QUEUE -> {
        QueueState state = action == PageActions.Action.PAUSE_QUEUE ? QueueState.QUEUE_PAUSED
            : action == PageActions.Action.DRAIN_QUEUE ? QueueState.QUEUE_DRAINING : QueueState.QUEUE_ACTIVE;
        QueueStateInfo info = call(queues::setQueueState, SetQueueStateRequest.newBuilder().setQueue(r.target())
            .setState(state).setReason(r.reason().isEmpty() ? "from the status page" : r.reason())
            .setChangedBy(actor.length() > 256 ? actor.substring(0, 256) : actor).build());
        yield "queue " + info.getQueue() + " is " + info.getState().name().replace("QUEUE_", "");
      }
      case CANCEL_CAPTURE -> {
        CancelJobResponse done = call(captures::cancelJob, CancelJobRequest.newBuilder().setJobId(r.target())
            .setReason(r.reason().isEmpty() ? "cancelled from the status page by " + actor : r.reason()).build());
        yield "capture " + r.target() + " is " + done.getJob().getState();
      }
      case REDRIVE_DEAD_LETTER -> {
        var published = deadLetters.redrive(r.topic(), r.seq());
        yield "dead letter " + r.target() + " re-driven to " + published.topic() + "[" + published.partition() + "]#"
            + published.seq() + (published.duplicate() ? " (it had been re-driven before)" : "");
      }
      case DISCARD_DEAD_LETTER -> {
        if (!deadLetters.discard(r.topic(), r.seq())) {
          throw new IllegalArgumentException("no dead letter " + r.seq() + " in " + DeadLetters.dlqOf(r.topic()));
        }
        yield "dead letter " + r.target() + " discarded";
      }
    };
  }

  /** One unary call of a service implementation, in process: its answer, or its failure as thrown. */
  static <Q, R> R call(BiConsumer<Q, StreamObserver<R>> method, Q request) {
    CompletableFuture<R> answer = new CompletableFuture<>();
    method.accept(request, new StreamObserver<>() {
      @Override
      public void onNext(R value) {
        answer.complete(value);
      }

      @Override
      public void onError(Throwable t) {
        answer.completeExceptionally(t);
      }

      @Override
      public void onCompleted() {
        answer.completeExceptionally(new IllegalStateException("the call ended without an answer"));
      }
    });
    try {
      return answer.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw io.grpc.Status.CANCELLED.withDescription("interrupted").asRuntimeException();
    } catch (ExecutionException e) {
      if (e.getCause() instanceof StatusRuntimeException s) {
        throw s;
      }
      throw io.grpc.Status.fromThrowable(e.getCause()).asRuntimeException();
    }
  }
}
