package dev.conveyor.submitqueue.deadletter;

import com.google.protobuf.Struct;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.consume.DeadLetterReconciler;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.conclude.ConcludeStage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Drives the entity a dead letter names to a terminal state and writes its history, without running
 * any stage again: a request-scoped letter ends its request in ERROR (its batch FAILED if it has one);
 * a batch-scoped letter fails the batch and its member requests and wakes its dependents.
 */
public final class StageDeadLetters {
  private static final Logger log = LoggerFactory.getLogger(StageDeadLetters.class);

  private StageDeadLetters() {}

  /** {@code idField} is the payload field naming the request ("request_id", or "id" for a Runway result). */
  public static DeadLetterReconciler requestScoped(StageContext ctx, String idField) {
    return (tx, letter) -> {
      String requestId = field(letter, idField);
      RequestRecord r = requestId == null ? null : Requests.find(tx, requestId).orElse(null);
      if (r == null || r.terminal()) {
        return;
      }
      var batch = r.batchId() == null ? null : dev.conveyor.submitqueue.batch.Batches.find(tx, r.batchId()).orElse(null);
      if (batch != null && batch.state() != dev.conveyor.api.submitqueue.BatchInfo.State.SPLIT) {
        failBatch(tx, ctx, r.batchId(), letter);
      } else { // not batched, or its batch went on without it (a cancel): it ends alone
        ctx.end(tx, r, State.ERROR, reason(letter));
      }
    };
  }

  /** {@code idField} is the payload field naming the batch ("batch_id", or "id" for a Runway result). */
  public static DeadLetterReconciler batchScoped(StageContext ctx, String idField) {
    return (tx, letter) -> {
      String batchId = field(letter, idField);
      if (batchId != null) {
        failBatch(tx, ctx, batchId, letter);
      }
    };
  }

  /**
   * A Runway merge result that could not be processed still says what happened to the target, so
   * it decides the batch (a merged batch must not be reported failed); anything else fails it.
   */
  public static DeadLetterReconciler mergeResults(StageContext ctx) {
    return (tx, letter) -> {
      dev.conveyor.api.runway.MergeResult result;
      try {
        result = ProtoJson.fromBytes(letter.getPayload().toByteArray(),
            dev.conveyor.api.runway.MergeResult.getDefaultInstance());
      } catch (ProtoJson.PayloadException e) {
        String batchId = field(letter, "id");
        if (batchId != null) {
          failBatch(tx, ctx, batchId, letter);
        }
        return;
      }
      BatchRecord b = Batches.find(tx, result.getId()).orElse(null);
      if (b == null) {
        return;
      }
      if (b.state() == BatchInfo.State.MERGING
          && result.getOutcome() == dev.conveyor.api.runway.Outcome.SUCCEEDED) {
        if (Batches.transition(tx, b, BatchInfo.State.SUCCEEDED, null)) {
          ConcludeStage.conclude(tx, ctx, Batches.get(tx, b.batchId()));
        }
        return;
      }
      failBatch(tx, ctx, b.batchId(), letter);
    };
  }

  private static void failBatch(Tx tx, StageContext ctx, String batchId, DeadLetter letter) throws SQLException {
    BatchRecord b = Batches.find(tx, batchId).orElse(null);
    if (b == null) {
      return;
    }
    if (b.terminal()) {
      ConcludeStage.conclude(tx, ctx, b); // the outcome stands; its members may not have heard of it yet
      return;
    }
    if (Batches.transition(tx, b, BatchInfo.State.FAILED, reason(letter))) {
      ConcludeStage.conclude(tx, ctx, Batches.get(tx, batchId));
    }
  }

  private static String reason(DeadLetter letter) {
    return "stage " + letter.getOriginalTopic() + " gave up after " + letter.getAttempts() + " attempt"
        + (letter.getAttempts() == 1 ? "" : "s") + ": " + letter.getLastError();
  }

  private static String field(DeadLetter letter, String name) {
    try {
      Struct json = ProtoJson.fromBytes(letter.getPayload().toByteArray(), Struct.getDefaultInstance());
      var v = json.getFieldsOrDefault(name, null);
      if (v != null && v.hasStringValue() && !v.getStringValue().isBlank()) {
        return v.getStringValue();
      }
    } catch (ProtoJson.PayloadException e) {
      // fall through: nothing names an entity
    }
    log.warn("dead letter {} on {} names no {}; nothing to drive terminal ({})", letter.getMessageId(),
        letter.getOriginalTopic(), name, letter.getLastError());
    return null;
  }
}
