package dev.conveyor.submitqueue.revert;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.StagingRefs;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.control.QueueStates;
import dev.conveyor.submitqueue.health.LandedCommits;
import dev.conveyor.submitqueue.health.MainChecks;
import dev.conveyor.submitqueue.notify.Notifications;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.RequestRefused;
import dev.conveyor.submitqueue.request.RequestRefused.Kind;
import dev.conveyor.submitqueue.request.Requests;
import dev.conveyor.submitqueue.start.Admission;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import org.eclipse.jgit.lib.ObjectId;

/**
 * {@code conveyor revert}: takes back a landed request through the queue. The revert commit undoes exactly
 * the request's own commits (from the commit landed before them to its last one) on the target's current tip;
 * it is pushed to {@code refs/conveyor/<queue>/revert/<n>} and landed as an urgent request, so it is built and
 * merged like any change. A queue paused by post-merge verification is resumed for it.
 */
public final class Reverts {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(Reverts.class);
  /** What a revert did. */
  public record Outcome(String revertRequestId, String commit, String ref, boolean resumed) {}

  private final Ledger ledger;
  private final SubmitQueues queues;
  private final Merger merger;
  private final Admission admission;
  private final Signals signals;

  public Reverts(Ledger ledger, SubmitQueues queues, Merger merger, Admission admission, Signals signals) {
    this.ledger = ledger;
    this.queues = queues;
    this.merger = merger;
    this.admission = admission;
    this.signals = signals;
  }

  private record Target(RequestRecord request, String before, String last) {}

  public Outcome revert(String requestId, String by) {
    Target target = ledger.read(tx -> {
      RequestRecord r = Requests.find(tx, requestId).orElseThrow(() -> new RequestRefused(Kind.REQUEST_NOT_FOUND,
          "request " + requestId + " not found"));
      if (r.state() != State.LANDED) {
        throw new RequestRefused(Kind.NOT_REVERTIBLE, "request " + requestId + " is " + r.state()
            + "; only a LANDED request can be reverted");
      }
      List<LandedCommits.Commit> commits = LandedCommits.ofRequest(tx, requestId);
      if (commits.isEmpty()) {
        throw new RequestRefused(Kind.NOT_REVERTIBLE, "request " + requestId + " put no commit on its target"
            + " that Conveyor recorded (it was already present, or landed before commits were recorded)");
      }
      var live = MainChecks.revertOf(tx, r.queue(), requestId, false);
      if (live.isPresent()) {
        throw new RequestRefused(Kind.NOT_REVERTIBLE, "request " + requestId + " is already being reverted as "
            + live.get());
      }
      String before = commits.get(0).baseSha();
      if (before.isEmpty()) {
        throw new RequestRefused(Kind.NOT_REVERTIBLE, "the commit before request " + requestId + "'s was not"
            + " recorded, so revert it by hand");
      }
      return new Target(r, before, commits.get(commits.size() - 1).sha());
    });
    RequestRecord r = target.request();
    SubmitQueueConfig queue = queues.find(r.queue()).orElseThrow(() -> new RequestRefused(Kind.UNKNOWN_QUEUE,
        "queue " + r.queue() + " is not configured here"));

    ObjectId commit;
    String ref;
    try {
      commit = merger.revert(queue.git(), ObjectId.fromString(target.before()), ObjectId.fromString(target.last()),
          "Revert " + requestId + "\n\nThis takes back the commits request " + requestId + " landed ("
              + target.before().substring(0, 12) + ".." + target.last().substring(0, 12) + "), as " + by
              + " asked.\n");
      // one ref per revert commit: a second attempt never moves the ref a first one's request fetches
      ref = StagingRefs.of(r.queue(), "revert/" + r.n() + "/" + commit.name().substring(0, 12));
      merger.stage(queue.git(), commit, ref);
    } catch (MergeRejection e) {
      throw new RequestRefused(Kind.NOT_REVERTIBLE, "request " + requestId + " cannot be reverted: " + e.describe());
    } catch (IOException e) {
      // the details (a remote's words, its address) go to the log, not to the caller
      log.warn("queue {}: the revert of {} failed: {}", r.queue(), requestId, e.toString());
      if (dev.conveyor.runway.merge.GitFailures.isTransient(e)) {
        throw new UncheckedIOException("the queue's remote could not be reached to revert " + requestId
            + "; try again", e);
      }
      throw new RequestRefused(Kind.NOT_REVERTIBLE, "the revert of " + requestId + " could not be made or pushed"
          + " (the server's log says why)");
    }
    List<String> uris = admission.validate(r.queue(), List.of("change://origin/" + ref + "@" + commit.name()),
        Strategy.REBASE);
    try {
      return admit(r, requestId, uris, commit, ref, by);
    } catch (RequestRefused refused) { // nothing will land it: the ref goes (unless a twin request holds it)
      if (refused.kind() == Kind.CHANGE_ALREADY_QUEUED) {
        throw refused;
      }
      try {
        merger.unstage(queue.git(), ref, commit);
      } catch (IOException | RuntimeException e) {
        log.warn("queue {}: could not remove {} after the revert was refused: {}", r.queue(), ref, e.toString());
      }
      throw refused;
    }
  }

  private Outcome admit(RequestRecord r, String requestId, List<String> uris, ObjectId commit, String ref, String by) {
    return ledger.transact(tx -> {
      QueueStates.lock(tx, r.queue());
      var live = MainChecks.revertOf(tx, r.queue(), requestId, false); // asked twice at once: one wins
      if (live.isPresent()) {
        throw new RequestRefused(Kind.NOT_REVERTIBLE, "request " + requestId + " is already being reverted as "
            + live.get());
      }
      RequestRecord landing = admission.land(tx, r.queue(), uris, Strategy.REBASE, RequestRecord.MAX_PRIORITY);
      QueueStates.Current now = QueueStates.get(tx, r.queue());
      boolean resume = now.paused() && MainChecks.PAUSED_BY.equals(now.changedBy());
      if (resume) {
        String why = "reverting " + requestId + " as " + landing.requestId();
        QueueStates.set(tx, r.queue(), QueueState.QUEUE_ACTIVE, why, by);
        new Notifications(queues, signals).queueState(tx, r.queue(), "resumed", why, by);
        List<String> active = Batches.active(tx, r.queue());
        if (!active.isEmpty()) { // plan again: what waited while paused may go on
          signals.batch(tx, SubmitQueueTopics.SPECULATE, r.queue(), active.get(0), "queue-state-" + tx.nowMillis());
        }
      }
      return new Outcome(landing.requestId(), commit.name(), ref, resume);
    });
  }
}
