package dev.conveyor.app.maintenance;

import dev.conveyor.app.serve.MaintenanceSettings.Ages;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobRetention;
import dev.conveyor.ledger.maintenance.RetentionTask;
import dev.conveyor.messagequeue.effects.ClaimRetention;
import dev.conveyor.messagequeue.stream.DeadLetterRetention;
import dev.conveyor.messagequeue.stream.RetentionGc;
import dev.conveyor.reconcile.executor.OrphanChunks;
import dev.conveyor.submitqueue.retention.SubmitQueueRetention;
import java.util.ArrayList;
import java.util.List;

/**
 * Every module's retention task, in the order one run should take them: SubmitQueue's rows first
 * (a request, then its batch, paths and build output), then the jobs they no longer hold, orphaned
 * result chunks, stream messages, dead letters, effect claims, the Durability service's signals and the audit log. An age of {@code forever} leaves
 * its task out. Capture statistics, snapshots and artifacts have no task: they are the product.
 */
public final class MaintenanceTasks {
  private MaintenanceTasks() {}

  public static List<RetentionTask> of(Ledger ledger, Ages ages) {
    List<RetentionTask> tasks = new ArrayList<>();
    ages.requests().ifPresent(a -> tasks.add(SubmitQueueRetention.requests(a)));
    ages.batches().ifPresent(a -> tasks.add(SubmitQueueRetention.batches(a)));
    ages.paths().ifPresent(a -> tasks.add(SubmitQueueRetention.paths(a)));
    ages.buildLogs().ifPresent(a -> tasks.add(SubmitQueueRetention.buildLogs(a)));
    ages.buildLogs().ifPresent(a -> tasks.add(SubmitQueueRetention.ciBuilds(a)));
    ages.buildLogs().ifPresent(a -> tasks.add(SubmitQueueRetention.mainChecks(a)));
    ages.jobs().ifPresent(a -> tasks.add(new JobRetention(a, List.of(SubmitQueueRetention.JOBS_IN_USE))));
    ages.resultChunks().ifPresent(a -> tasks.add(new OrphanChunks(a)));
    ages.messages().ifPresent(a -> tasks.add(new RetentionGc(ledger, Topics.registry(a), a)));
    ages.deadLetters().ifPresent(a -> tasks.add(new DeadLetterRetention(ledger, a)));
    ages.effectClaims().ifPresent(a -> tasks.add(new ClaimRetention(a)));
    ages.signals().ifPresent(a -> tasks.add(new dev.conveyor.durability.signals.SignalRetention(a)));
    ages.audit().ifPresent(a -> tasks.add(new dev.conveyor.app.audit.AuditRetention(a)));
    return tasks;
  }
}
