package dev.conveyor.reconcile.planning;

import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.jobs.Outcomes.LeaseStatus;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps one planner job's lease alive while the planner works: a heartbeat thread renews it every
 * {@code every} (well inside the lease), so a listing of any length never lets it lapse while this
 * process is alive. When a renewal is refused (the lease lapsed, was reclaimed, or the job moved on)
 * or cancellation is asked, {@link #check} throws and the planner stops before its next write; the
 * ledger fences every write by the lease epoch as well.
 */
final class PlanLease implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(PlanLease.class);

  /** The planner was asked to cancel its job. */
  static final class CancelRequested extends RuntimeException {
    private static final long serialVersionUID = 1L;

    CancelRequested(String jobId) {
      super("job " + jobId + " was cancelled while it was being planned");
    }
  }

  private final LeasedJobs jobs;
  private final LeaseGrant grant;
  private final Duration lease;
  private final Duration every;
  private final CountDownLatch stop = new CountDownLatch(1);
  private final Thread thread;
  private volatile String lost;
  private volatile boolean cancelRequested;

  private PlanLease(LeasedJobs jobs, LeaseGrant grant, Duration lease, Duration every) {
    this.jobs = jobs;
    this.grant = grant;
    this.lease = lease;
    this.every = every;
    this.thread = new Thread(this::beat, "plan-lease-" + grant.job().id());
    thread.setDaemon(true);
  }

  static PlanLease keep(LeasedJobs jobs, LeaseGrant grant, Duration lease, Duration every) {
    PlanLease l = new PlanLease(jobs, grant, lease, every);
    l.thread.start();
    return l;
  }

  private void beat() {
    try {
      while (!stop.await(every.toMillis(), TimeUnit.MILLISECONDS)) {
        try {
          LeaseStatus s = jobs.renew(grant.job().id(), grant.epoch(), lease);
          if (!s.renewed()) {
            lost = "a renewal was refused (the lease lapsed or the job moved on)";
            return;
          }
          cancelRequested = s.cancellationRequested();
        } catch (RuntimeException e) {
          // the ledger is unreachable for now; the next beat tries again while the lease lasts
          log.warn("renewing the lease on planner job {} failed: {}", grant.job().id(), e.getMessage());
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Throws {@link LeaseLostException} once the lease is lost, {@link CancelRequested} once cancel was asked. */
  void check() {
    if (lost != null) {
      throw new LeaseLostException(grant.job().id(), lost);
    }
    if (cancelRequested) {
      throw new CancelRequested(grant.job().id());
    }
  }

  /** Stops the heartbeat; a renewal already under way may still land, which is harmless. */
  @Override
  public void close() {
    stop.countDown();
  }
}
