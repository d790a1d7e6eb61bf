package dev.conveyor.runway.service;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.messagequeue.consume.Delivery;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.effects.ClaimResult;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.runway.merge.GitFailures;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.queue.RunwayQueues;
import java.io.IOException;
import java.time.Duration;
import org.eclipse.jgit.api.errors.JGitInternalException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one request topic. Conflicts, invalid requests and a remote that refuses us (not found,
 * not authorized) become FAILED results; a transient git failure (a busy or unreachable remote, a
 * cache write race) is retried later without counting an attempt; other infrastructure errors are
 * nacked and retried; an undecodable payload or one without a correlation id is dead-lettered with
 * its error. The result is published in the transaction that acks the request.
 *
 * <p>A merge's push is an effect claim ({@value #CLAIM_SCOPE}, keyed by queue and correlation id) completed
 * with its result as soon as the push is done; a redelivered request whose claim is completed is answered
 * from it without a fetch or a push, and one whose claim another member holds waits without an attempt. The
 * claim's lease is short and renewed while the merge runs, so a member that died mid-merge holds it back for
 * {@link #CLAIM_LEASE} at most.
 */
final class MergeRequestHandler implements MessageHandler {
  private static final Logger log = LoggerFactory.getLogger(MergeRequestHandler.class);
  /** A merge of a large stack may take minutes; keep the message invisible to other members meanwhile. */
  static final Duration MERGE_VISIBILITY = Duration.ofMinutes(15);

  /** The effect-claim scope of merges; the key is the queue and the request's correlation id. */
  public static final String CLAIM_SCOPE = "runway.merge";
  /**
   * A merge's claim lease, renewed every third of it while the merge runs: a node that dies mid-merge holds
   * its request back this long at most, not the delivery's visibility.
   */
  static final Duration CLAIM_LEASE = Duration.ofSeconds(15);
  /** A few threads, so one renewal waiting out a ledger outage does not hold the others back. */
  private static final java.util.concurrent.ScheduledExecutorService RENEWALS =
      java.util.concurrent.Executors.newScheduledThreadPool(4, r -> {
        Thread t = new Thread(r, "runway-claim-renewals");
        t.setDaemon(true);
        return t;
      });

  private final Merger merger;
  private final RunwayQueues queues;
  private final Publisher publisher;
  private final TopicKey signal;
  private final boolean dryRun;
  private final EffectClaims claims;
  private final String holder;

  MergeRequestHandler(Merger merger, RunwayQueues queues, Publisher publisher, TopicKey requestTopic,
      EffectClaims claims, String holder) {
    this.merger = merger;
    this.queues = queues;
    this.publisher = publisher;
    this.signal = RunwayTopics.signalOf(requestTopic);
    this.dryRun = requestTopic.equals(RunwayTopics.CHECK);
    this.claims = claims;
    this.holder = holder;
  }

  public static String claimKey(MergeRequest request) {
    return request.getQueueName() + "/" + request.getId();
  }

  @Override
  public Outcome handle(Delivery delivery) {
    MergeRequest request;
    try {
      request = delivery.payloadAs(MergeRequest.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject(e.getMessage());
    }
    if (request.getId().isBlank()) {
      return Outcome.reject("MergeRequest has an empty 'id', so no result could be correlated");
    }
    delivery.extendVisibility(MERGE_VISIBILITY);
    if (dryRun) {
      return merge(request, null, () -> { });
    }
    // The push is an effect: one claim per request, completed with the result right after the push, so a
    // redelivery (the node died before the ack) answers the stored result without touching git again.
    String key = claimKey(request);
    ClaimResult claim = claims.claim(CLAIM_SCOPE, key, holder, CLAIM_LEASE);
    if (claim instanceof ClaimResult.AlreadyCompleted done) {
      MergeResult stored;
      try {
        stored = MergeResult.parseFrom(done.result());
      } catch (com.google.protobuf.InvalidProtocolBufferException e) {
        return Outcome.reject("the stored result of merge " + key + " is unreadable: " + e.getMessage());
      }
      log.info("request {} on queue {}: merged before (its claim is completed); answering the stored result",
          request.getId(), request.getQueueName());
      return Outcome.ack(tx -> MergeResults.publish(tx, publisher, signal, stored));
    }
    if (claim instanceof ClaimResult.Held held) {
      return Outcome.unavailable("merge " + key + " is being pushed by " + held.holder() + " until " + held.until());
    }
    String token = ((ClaimResult.Acquired) claim).token();
    long every = CLAIM_LEASE.toMillis() / 3;
    var renewal = RENEWALS.scheduleAtFixedRate(() -> {
      try {
        if (!claims.renew(CLAIM_SCOPE, key, token, CLAIM_LEASE)) {
          log.warn("request {}: its merge claim was taken over while the merge ran", request.getId());
        }
      } catch (Throwable t) { // a throwing task is never run again: log and try at the next tick
        log.warn("request {}: renewing its merge claim failed ({}); trying again", request.getId(), t.toString());
      }
    }, every, every, java.util.concurrent.TimeUnit.MILLISECONDS);
    try {
      return merge(request, token, () -> renewal.cancel(false));
    } finally {
      renewal.cancel(false);
    }
  }

  /**
   * Merges (and, unless a dry run, pushes) and answers; {@code token} is the push's claim, null for a check.
   * {@code stopRenewal} runs once the merge is over, before the claim is completed or released.
   */
  private Outcome merge(MergeRequest request, String token, Runnable stopRenewal) {
    MergeResult result;
    try {
      try {
        result = MergeResults.of(request, merger.merge(MergePlans.plan(request, queues, dryRun)));
      } finally {
        stopRenewal.run();
      }
    } catch (MergeRejection r) {
      result = MergeResults.failed(request, r.stepId(), r.describe());
    } catch (IOException | JGitInternalException e) {
      String error = e.getClass().getSimpleName() + ": " + e.getMessage();
      if (GitFailures.isTransient(e)) {
        // a busy or unreachable remote, a cache write race: says nothing about the request
        log.warn("request {} on queue {}: {}; will retry without counting an attempt", request.getId(),
            request.getQueueName(), error);
        release(request, token);
        return Outcome.unavailable(error);
      }
      if (GitFailures.isRefusal(e)) {
        result = MergeResults.failed(request, null, "the remote refused runway (check the queue's remote URL and"
            + " credentials): " + e.getMessage());
      } else {
        log.warn("request {} on queue {}: {}; will retry", request.getId(), request.getQueueName(), error);
        release(request, token);
        return Outcome.nack(error);
      }
    } catch (RuntimeException e) {
      release(request, token);
      throw e;
    }
    if (token != null) {
      byte[] stored = result.toByteArray();
      if (stored.length <= EffectClaims.MAX_RESULT_BYTES) {
        try {
          claims.complete(CLAIM_SCOPE, claimKey(request), token, stored);
        } catch (RuntimeException e) { // the push is done: answer it anyway; the claim lapses, a redelivery
          // re-decides from the target's history
          log.warn("request {}: its merge claim could not be completed ({}); answering the result anyway",
              request.getId(), e.toString());
        }
      } else { // the target's history still says what landed; a redelivery re-decides from it
        log.warn("request {}: its result ({} bytes) is too large to store with its claim", request.getId(),
            stored.length);
        release(request, token);
      }
    }
    log.info("request {} on queue {}: {}{}", request.getId(), request.getQueueName(), result.getOutcome(),
        result.getReason().isEmpty() ? "" : " (" + result.getReason() + ")");
    MergeResult published = result;
    return Outcome.ack(tx -> MergeResults.publish(tx, publisher, signal, published));
  }

  /** Gives the claim back when no result was decided, so the retry takes it at once. */
  private void release(MergeRequest request, String token) {
    if (token == null) {
      return;
    }
    try {
      claims.release(CLAIM_SCOPE, claimKey(request), token);
    } catch (RuntimeException e) {
      log.warn("request {}: releasing its claim failed ({}); it lapses on its own", request.getId(), e.toString());
    }
  }
}
