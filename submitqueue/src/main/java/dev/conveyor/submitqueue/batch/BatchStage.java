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
import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Puts a validated request in a batch with its dependencies. The request's move to BATCHED is a
 * compare-and-swap in the same transaction: a redelivery finds the request already batched, and a
 * cancel that won the race leaves no batch behind.
 *
 * <p>With {@code batch-size} n > 1 the request joins the queue's open batch ({@link #open}: not yet
 * planned, fewer than n members). One touching a path a member touches goes alone instead, in a batch of
 * its own that takes no members, and the open batch stays open; one following a batch that follows the
 * open one ({@link #mayJoin}) starts a new batch, which seals the open one. With no open batch the request
 * starts one (id from the request), with, when {@code batch-wait} is set, a wake-up of the planner for the
 * moment it stops waiting to fill ({@link #filling}). An urgent request (priority above 0) always goes
 * alone. Joining is a compare-and-swap on the batch, so a member never joins a
 * batch the planner has just taken.
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

  /** Whether {@code b} still takes members: not yet planned, not full and its wait not over. */
  public static boolean filling(SubmitQueueConfig queue, BatchRecord b, long nowMillis) {
    return open(queue, b) && nowMillis < b.createdAtMillis() + queue.batchWait().toMillis();
  }

  /** Whether {@code b} may take a member: not yet planned, not sealed by a newer batch, and not full. */
  static boolean open(SubmitQueueConfig queue, BatchRecord b) {
    return b.state() == BatchInfo.State.CREATED && b.reason() != null && b.reason().startsWith(Batches.FILLING)
        && b.requestIds().size() < queue.batchSize();
  }

  @Override
  protected boolean apply(Tx tx, RequestSignal s) throws SQLException {
    RequestRecord r = Requests.find(tx, s.getRequestId()).orElse(null);
    if (r == null || r.state() != State.VALIDATED) {
      return false;
    }
    var queue = ctx.queue(r.queue());
    Set<String> paths = new HashSet<>(r.paths());
    ConflictAnalysis.Placement place = ConflictAnalysis.place(ConflictAnalysis.active(tx, queue), queue.analyzer(),
        paths, r.n());
    List<String> deps = place.follows();
    boolean urgent = r.priority() > 0; // never waits for a batch to fill, nor joins one that waits
    // a request touching what the open batch touches goes alone and leaves that batch open to the requests
    // after it: it is the likeliest to conflict with the batch, and tying independent requests to it would
    // make them wait on (and speculate about) that conflict
    // one that goes ahead of batches landed after it goes alone too (joining would move a whole batch ahead)
    boolean alone = urgent || !place.ahead().isEmpty();
    if (queue.batchSize() > 1 && !alone) {
      Optional<BatchRecord> open = openBatch(tx, queue);
      alone = open.isPresent() && queue.analyzer() != SubmitQueueConfig.ConflictAnalyzer.SERIAL
          && ConflictAnalysis.overlaps(tx, open.get().batchId(), paths);
      if (open.isPresent() && !alone && mayJoin(tx, open.get(), deps)
          && Batches.addMember(tx, open.get(), r.requestId(), deps)) {
        BatchRecord b = open.get();
        if (!Requests.batched(tx, r, b.batchId())) {
          throw new dev.conveyor.ledger.OptimisticConflictException("request " + r.requestId()
              + " changed while joining batch " + b.batchId()); // roll the member back; the stage runs again
        }
        BatchRecord joined = Batches.get(tx, b.batchId());
        if (!filling(queue, joined, tx.nowMillis())) { // full, or its wait is over: nothing else will plan it
          ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, r.queue(), b.batchId(), "joined-" + r.requestId());
        }
        return true;
      }
    }
    String batchId = batchIdOf(r);
    if (!Requests.batched(tx, r, batchId)) {
      return false; // its state moved on (a redelivery, or a cancel that won)
    }
    if (queue.batchSize() > 1 && !alone) {
      // a newer filling batch seals the one before it, which is then planned
      Optional<String> sealed = Batches.seal(tx, r.queue());
      if (sealed.isPresent()) {
        ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, r.queue(), sealed.get(), "sealed");
      }
    }
    Batches.createIfAbsent(tx, batchId, r.queue(), r.n(), List.of(r.requestId()), deps);
    for (String later : place.ahead()) {
      // it must not start merging meanwhile: the version bump makes a planner pass that read it lose its CAS
      if (!Batches.followAlso(tx, later, batchId, deps)) {
        throw new dev.conveyor.ledger.OptimisticConflictException("batch " + later + " began merging while "
            + r.requestId() + " was placed ahead of it"); // place again: it now goes behind
      }
      ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, r.queue(), later, "overtaken-by-" + r.requestId());
    }
    if (queue.batchSize() > 1 && !alone) {
      tx.update("UPDATE sq_batches SET reason = ? WHERE batch_id = ?", Batches.FILLING + ": takes up to "
          + queue.batchSize() + " requests until planned", batchId);
    }
    if (queue.batchSize() > 1 && !queue.batchWait().isZero() && !alone) {
      // the planner leaves a filling batch alone; this wakes it when the batch stops waiting
      ctx.signals().batchAfter(tx, SubmitQueueTopics.SPECULATE, r.queue(), batchId, "batch-wait", queue.batchWait());
    } else {
      ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, r.queue(), batchId, "created");
    }
    return true;
  }

  /** The queue's filling batch, if it still takes members. */
  private static Optional<BatchRecord> openBatch(Tx tx, SubmitQueueConfig queue) throws SQLException {
    Optional<String> openId = Batches.filling(tx, queue.name());
    if (openId.isEmpty()) {
      return Optional.empty();
    }
    BatchRecord b = Batches.get(tx, openId.get());
    return open(queue, b) ? Optional.of(b) : Optional.empty();
  }

  /**
   * Whether a request following {@code deps} (closed transitively) may join {@code open} without a cycle or
   * overtaking: none of its dependencies may follow the open batch (a request that went alone after it),
   * since the batch would then wait for what waits for it. Requests reach this stage in the order their
   * checks end, not the order they were landed, so only the dependencies tell.
   */
  private static boolean mayJoin(Tx tx, BatchRecord open, List<String> deps) throws SQLException {
    for (String dep : deps) {
      if (!dep.equals(open.batchId()) && Batches.dependencies(tx, dep).contains(open.batchId())) {
        return false;
      }
    }
    return true;
  }
}
