package dev.conveyor.submitqueue.health;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.BuildSpec;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.sql.SQLException;

/**
 * Post-merge verification jobs: a BUILD job running the queue's {@code post-merge-command} on one commit of
 * the target (its verdict goes to {@link MainChecks#record}). Made for every landing, and by {@link Bisection}
 * for the commits it needs to judge.
 */
public final class Verifications {
  private Verifications() {}

  /**
   * Enqueues the check of {@code sha} (a commit {@code batchId} put on the target) unless a check of it is still
   * live (one dedupe key per commit, whoever asks); does nothing when the queue has no post-merge-command.
   */
  public static void enqueue(Tx tx, LeasedJobs jobs, SubmitQueues queues, String queue, String batchId, String sha,
      String pathId) throws SQLException {
    String dedupeKey = "post-merge:" + queue + ":" + sha;
    var command = queues.postMerge(queue);
    var config = queues.find(queue);
    if (command.isEmpty() || config.isEmpty()) {
      return;
    }
    BuildSpec spec = BuildSpec.newBuilder().setQueue(queue).setBatchId(batchId).setPathId(pathId)
        .setCommand(command.get()).setTimeoutMs(config.get().buildTimeout().toMillis()).setVerifySha(sha).build();
    jobs.enqueue(tx, JobSpec.builder(JobKind.BUILD).executionClass("build").dedupeKey(dedupeKey)
        .payload(ProtoJson.toBytes(spec)).maxAttempts(3).build());
  }
}
