package dev.conveyor.reconcile.client;

import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.CompleteLeasedReconcileJobResponse;
import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.LeaseReconcileJobResponse;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.api.reconcile.RenewReconcileLeaseRequest;
import dev.conveyor.api.reconcile.RenewReconcileLeaseResponse;
import dev.conveyor.api.reconcile.ReportReconcileProgressRequest;
import dev.conveyor.api.reconcile.ReportReconcileProgressResponse;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobRequest;
import dev.conveyor.api.reconcile.StartLeasedReconcileJobResponse;
import dev.conveyor.api.reconcile.WorkerSessionAnswer;
import dev.conveyor.api.reconcile.WorkerSessionCall;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import io.grpc.stub.StreamObserver;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * A worker's end of the WorkerSession RPC: the holder's calls as futures over one stream. A call's
 * future completes with its answer, or fails with the {@link StatusRuntimeException} its unary RPC
 * would have thrown (read its reason with {@code ErrorStatus.reasonOf}); when the stream itself fails,
 * every unanswered call fails with the stream's status. Thread-safe. {@link #close} half-closes and
 * waits for the answers still owed.
 */
public final class WorkerSessionClient implements AutoCloseable {
  private final StreamObserver<WorkerSessionCall> calls;
  private final Object sendLock = new Object(); // a gRPC stream's sending side is not thread-safe
  private final Map<Long, Pending<?>> pending = new ConcurrentHashMap<>();
  private final CompletableFuture<Void> ended = new CompletableFuture<>();
  private long nextId;
  private volatile StatusRuntimeException broken;
  private boolean closing; // guarded by sendLock

  private record Pending<T>(CompletableFuture<T> answer, Function<WorkerSessionAnswer, T> read) {
    void complete(WorkerSessionAnswer a) {
      answer.complete(read.apply(a));
    }
  }

  /** Opens a session on {@code stub} (its call credentials, deadline-free: a session lives as long as its worker). */
  public WorkerSessionClient(ReconcileExecutorControlGrpc.ReconcileExecutorControlStub stub) {
    this.calls = stub.workerSession(new StreamObserver<>() {
      @Override
      public void onNext(WorkerSessionAnswer a) {
        Pending<?> p = pending.remove(a.getCallId());
        if (p == null) {
          return; // not ours: a server may not invent answers, and a duplicate changes nothing
        }
        if (a.hasError()) {
          p.answer().completeExceptionally(StatusProto.toStatusRuntimeException(a.getError()));
        } else {
          p.complete(a);
        }
      }

      @Override
      public void onError(Throwable t) {
        fail(t instanceof StatusRuntimeException s ? s : Status.fromThrowable(t).asRuntimeException());
      }

      @Override
      public void onCompleted() {
        fail(Status.UNAVAILABLE.withDescription("the worker session ended").asRuntimeException());
      }
    });
  }

  private void fail(StatusRuntimeException why) {
    synchronized (sendLock) { // after this, no call is sent, so none is left behind unanswered
      broken = why;
    }
    for (Long id : pending.keySet()) {
      Pending<?> p = pending.remove(id);
      if (p != null) {
        p.answer().completeExceptionally(why);
      }
    }
    ended.complete(null);
  }

  public CompletableFuture<LeaseReconcileJobResponse> lease(LeaseReconcileJobRequest req) {
    return send(WorkerSessionCall.newBuilder().setLease(req), WorkerSessionAnswer::getLease);
  }

  public CompletableFuture<StartLeasedReconcileJobResponse> start(StartLeasedReconcileJobRequest req) {
    return send(WorkerSessionCall.newBuilder().setStart(req), WorkerSessionAnswer::getStart);
  }

  public CompletableFuture<RenewReconcileLeaseResponse> renew(RenewReconcileLeaseRequest req) {
    return send(WorkerSessionCall.newBuilder().setRenew(req), WorkerSessionAnswer::getRenew);
  }

  public CompletableFuture<ReportReconcileProgressResponse> progress(ReportReconcileProgressRequest req) {
    return send(WorkerSessionCall.newBuilder().setProgress(req), WorkerSessionAnswer::getProgress);
  }

  public CompletableFuture<CompleteLeasedReconcileJobResponse> complete(CompleteLeasedReconcileJobRequest req) {
    return send(WorkerSessionCall.newBuilder().setComplete(req), WorkerSessionAnswer::getComplete);
  }

  /** Calls sent and not yet answered. */
  public int unanswered() {
    return pending.size();
  }

  private <T> CompletableFuture<T> send(WorkerSessionCall.Builder call, Function<WorkerSessionAnswer, T> read) {
    CompletableFuture<T> answer = new CompletableFuture<>();
    synchronized (sendLock) {
      StatusRuntimeException down = broken != null ? broken
          : closing ? Status.FAILED_PRECONDITION.withDescription("the worker session is closing").asRuntimeException()
          : null;
      if (down != null) {
        answer.completeExceptionally(down);
        return answer;
      }
      long id = ++nextId;
      pending.put(id, new Pending<>(answer, read));
      calls.onNext(call.setCallId(id).build());
    }
    return answer;
  }

  /** Half-closes the session and waits until the server has answered every call (or the stream failed). */
  @Override
  public void close() {
    synchronized (sendLock) {
      if (broken == null && !closing) {
        closing = true;
        calls.onCompleted();
      }
    }
    ended.join();
  }
}
