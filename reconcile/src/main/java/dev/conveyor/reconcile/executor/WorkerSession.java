package dev.conveyor.reconcile.executor;

import dev.conveyor.api.reconcile.StartLeasedReconcileJobResponse;
import dev.conveyor.api.reconcile.WorkerSessionAnswer;
import dev.conveyor.api.reconcile.WorkerSessionCall;
import dev.conveyor.ledger.jobs.LeasedJobs;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One worker's session (the WorkerSession RPC): each call on the stream goes to the ledger's group
 * commit without a thread waiting for it, and is answered under its call id when its transaction ends,
 * so the calls of many sessions share transactions. A failed call is answered alone with the status its
 * unary RPC would have ended with; the stream goes on. At most {@link #MAX_IN_FLIGHT} calls are read
 * ahead of their answers (gRPC flow control holds the rest). When the worker half-closes, the session
 * ends once every call has been answered; when it cancels, calls already queued still run, and their
 * answers are dropped.
 */
final class WorkerSession implements StreamObserver<WorkerSessionCall> {
  static final int MAX_IN_FLIGHT = 256;
  private static final Logger log = LoggerFactory.getLogger(WorkerSession.class);

  private final LeasedJobs jobs;
  private final ServerCallStreamObserver<WorkerSessionAnswer> out;
  // guards the stream's outbound side, which gRPC does not make thread-safe, and the counts below
  private final Object sending = new Object();
  private int inFlight;
  /** Calls answered while the worker was not reading: read more only once it reads again. */
  private int owed;
  private boolean halfClosed;
  private boolean ended;

  WorkerSession(LeasedJobs jobs, ServerCallStreamObserver<WorkerSessionAnswer> out) {
    this.jobs = jobs;
    this.out = out;
    out.disableAutoRequest();
    out.setOnCancelHandler(() -> {
      synchronized (sending) {
        ended = true;
      }
    });
    out.setOnReadyHandler(() -> {
      synchronized (sending) {
        if (owed > 0 && !ended) {
          out.request(owed);
          owed = 0;
        }
      }
    });
    out.request(MAX_IN_FLIGHT);
  }

  @Override
  public void onNext(WorkerSessionCall call) {
    synchronized (sending) {
      inFlight++;
    }
    CompletableFuture<WorkerSessionAnswer.Builder> answer;
    try {
      answer = dispatch(call);
    } catch (RuntimeException refused) { // bad input, refused before the ledger
      answer = CompletableFuture.failedFuture(refused);
    }
    long id = call.getCallId();
    answer.whenComplete((built, failure) -> answer(id, built, failure));
  }

  private CompletableFuture<WorkerSessionAnswer.Builder> dispatch(WorkerSessionCall call) {
    return switch (call.getCallCase()) {
      case LEASE -> jobs.leaseAsync(WorkerCalls.leaseRequest(call.getLease()))
          .thenApply(grants -> WorkerSessionAnswer.newBuilder().setLease(WorkerCalls.leaseResponse(grants)));
      case START -> jobs.startAsync(WorkerCalls.required("job_id", call.getStart().getJobId()),
              WorkerCalls.required("lease_epoch", call.getStart().getLeaseEpoch()))
          .thenApply(s -> WorkerSessionAnswer.newBuilder().setStart(StartLeasedReconcileJobResponse.newBuilder()
              .setStartedAtMs(s.at().toEpochMilli()).setCancellationRequested(s.cancellationRequested())));
      case RENEW -> jobs.renewAsync(WorkerCalls.required("job_id", call.getRenew().getJobId()),
              WorkerCalls.required("lease_epoch", call.getRenew().getLeaseEpoch()),
              WorkerCalls.lease(call.getRenew().getLeaseMs()))
          .thenApply(s -> WorkerSessionAnswer.newBuilder().setRenew(WorkerCalls.renewResponse(s)));
      case PROGRESS -> jobs.progressAsync(WorkerCalls.required("job_id", call.getProgress().getJobId()),
              WorkerCalls.required("lease_epoch", call.getProgress().getLeaseEpoch()),
              WorkerCalls.progress(call.getProgress()), WorkerCalls.DEFAULT_LEASE)
          .thenApply(s -> WorkerSessionAnswer.newBuilder().setProgress(WorkerCalls.progressResponse(s)));
      case COMPLETE -> jobs.completeAsync(WorkerCalls.required("job_id", call.getComplete().getJobId()),
              WorkerCalls.required("lease_epoch", call.getComplete().getLeaseEpoch()),
              WorkerCalls.completion(call.getComplete()), WorkerCalls::fileGroupSucceedsWithItsResult)
          .thenApply(done -> WorkerSessionAnswer.newBuilder().setComplete(WorkerCalls.completeResponse(done)));
      case CALL_NOT_SET -> throw new IllegalArgumentException(
          "call must be one of lease, start, renew, progress, complete (call_id " + call.getCallId() + ")");
    };
  }

  /** Answers one call (on whichever thread its transaction ended); ends the session after the last. */
  private void answer(long id, WorkerSessionAnswer.Builder built, Throwable failure) {
    WorkerSessionAnswer answer;
    if (failure == null) {
      answer = built.setCallId(id).build();
    } else {
      Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause()
          : failure;
      answer = WorkerSessionAnswer.newBuilder().setCallId(id)
          .setError(StatusProto.fromThrowable(GrpcErrors.toStatus(cause))).build();
    }
    synchronized (sending) {
      inFlight--;
      if (ended) {
        handBack(answer);
        return;
      }
      try {
        out.onNext(answer);
        if (out.isReady()) {
          out.request(1);
        } else {
          owed++; // a worker that sends but does not read gets no more calls read until it does
        }
        if (halfClosed && inFlight == 0) {
          ended = true;
          out.onCompleted();
        }
      } catch (RuntimeException e) { // the call went away under us: nothing more to answer
        ended = true;
        log.debug("worker session ended while answering: {}", e.toString());
      }
    }
  }

  /**
   * A lease answered after the worker went away: nobody will run those jobs, so they go back to the
   * queue at once without their attempt counting (off the committer thread: handing back waits for the ledger).
   */
  private void handBack(WorkerSessionAnswer answer) {
    if (!answer.hasLease() || answer.getLease().getJobsCount() == 0) {
      return;
    }
    java.util.concurrent.ForkJoinPool.commonPool().execute(() -> {
      for (var job : answer.getLease().getJobsList()) {
        try {
          jobs.handBack(job.getJobId(), job.getLeaseEpoch(), "the worker session ended before the lease was answered");
        } catch (RuntimeException e) {
          log.warn("job {}: could not hand back a lease its worker never saw ({}); it returns when the lease expires",
              job.getJobId(), e.toString());
        }
      }
    });
  }

  @Override
  public void onError(Throwable t) {
    synchronized (sending) {
      ended = true; // the worker cancelled or the connection broke; queued calls still run
    }
  }

  @Override
  public void onCompleted() {
    synchronized (sending) {
      halfClosed = true;
      if (inFlight == 0 && !ended) {
        ended = true;
        out.onCompleted();
      }
    }
  }
}
