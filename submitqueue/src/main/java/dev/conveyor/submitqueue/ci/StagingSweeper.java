package dev.conveyor.submitqueue.ci;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.submitqueue.ci.CiBuild.State;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.IOException;
import java.util.List;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps the remote free of staging refs nobody builds any more: a waiting build whose BUILD job ended
 * (its path was cancelled or preempted) becomes ENDED, and every decided build's ref is removed (while it
 * still points at the build's commit). A build's own job removes its ref when it takes the verdict; this
 * catches what that could not (a job cancelled while parked, a remote that was down). Idempotent: any
 * number of workers may sweep at once.
 */
public final class StagingSweeper {
  private static final Logger log = LoggerFactory.getLogger(StagingSweeper.class);
  private final Ledger ledger;
  private final Merger merger;
  private final SubmitQueues queues;

  public StagingSweeper(Ledger ledger, Merger merger, SubmitQueues queues) {
    this.ledger = ledger;
    this.merger = merger;
    this.queues = queues;
  }

  /** Whether any queue here builds externally (else there is nothing to sweep). */
  public boolean needed() {
    return queues.all().stream().anyMatch(q -> q.runner().external());
  }

  /** One pass over at most {@code limit} builds of each kind; answers how many refs it removed. */
  public int sweep(int limit) {
    for (String buildId : ledger.read(tx -> CiBuilds.orphaned(tx, limit))) {
      if (ledger.transact(tx -> CiBuilds.decide(tx, buildId, State.ENDED, "its path ended before a verdict"))) {
        log.info("external build {} ended before CI's verdict (its path was cancelled or replaced)", buildId);
      }
    }
    int removed = 0;
    // only queues configured here: another node's queue is its own build workers' to sweep
    List<CiBuild> due = ledger.read(tx -> CiBuilds.refsToRemove(tx, queues.names(), limit));
    for (CiBuild build : due) {
      SubmitQueueConfig queue = queues.find(build.queue()).orElseThrow();
      try {
        merger.unstage(queue.git(), build.stagingRef(), ObjectId.fromString(build.sha()));
        removed++;
        ledger.transact(tx -> {
          CiBuilds.refRemoved(tx, build.buildId());
          return null;
        });
      } catch (IOException | RuntimeException e) {
        log.warn("cannot remove staging ref {} of build {} yet: {}", build.stagingRef(), build.buildId(),
            e.getMessage());
        try { // to the back of the line: refs that keep failing never starve the others
          ledger.transact(tx -> {
            CiBuilds.later(tx, build.buildId());
            return null;
          });
        } catch (RuntimeException ignored) {
          // the ledger is down too; the next pass tries again
        }
      }
    }
    return removed;
  }
}
