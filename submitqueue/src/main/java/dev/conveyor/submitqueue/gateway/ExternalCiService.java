package dev.conveyor.submitqueue.gateway;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.submitqueue.CiBuild;
import dev.conveyor.api.submitqueue.CiCheck;
import dev.conveyor.api.submitqueue.ExternalCiGrpc;
import dev.conveyor.api.submitqueue.GetBuildRequest;
import dev.conveyor.api.submitqueue.ListPendingRequest;
import dev.conveyor.api.submitqueue.ListPendingResponse;
import dev.conveyor.api.submitqueue.ReportCheckRequest;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.submitqueue.ci.CiBuilds;
import dev.conveyor.submitqueue.ci.CiReports;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.request.RequestRefused;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ExternalCi service: the team's CI lists builds waiting for it and reports each required check
 * (serve maps it to the {@code ci-reporter} role). {@link CiReports} decides; this maps values and errors.
 */
public final class ExternalCiService extends ExternalCiGrpc.ExternalCiImplBase {
  private static final Logger log = LoggerFactory.getLogger(ExternalCiService.class);
  public static final int MAX_PENDING = 500;

  private final Ledger ledger;
  private final SubmitQueues queues;

  public ExternalCiService(Ledger ledger, SubmitQueues queues) {
    this.ledger = ledger;
    this.queues = queues;
  }

  @Override
  public void reportCheck(ReportCheckRequest request, StreamObserver<CiBuild> response) {
    try {
      response.onNext(report(request));
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
    }
  }

  /**
   * Records one report (also for {@code POST /api/ci/builds/{id}}); a refusal is thrown as the
   * StatusRuntimeException gRPC would answer, so both surfaces refuse alike.
   */
  public CiBuild report(ReportCheckRequest request) {
    try {
      var build = ledger.transact(tx -> CiReports.report(tx, ledger.jobs(), new CiReports.Report(
          request.getBuildId(), request.getCheck(), request.hasPassed() ? request.getPassed() : null, request.getUrl(),
          request.getReportedBy(), request.getSha())));
      log.info("external build {}: check {} reported {} ({})", build.buildId(),
          request.getCheck().isEmpty() ? build.requiredChecks().get(0) : request.getCheck(),
          request.getPassed() ? "passed" : "failed", build.state());
      return info(build);
    } catch (RuntimeException e) {
      throw GatewayErrors.toStatus(e);
    }
  }

  @Override
  public void listPending(ListPendingRequest request, StreamObserver<ListPendingResponse> response) {
    try {
      String queue = request.getQueue().isEmpty() ? null : known(request.getQueue());
      if (request.getLimit() < 0) {
        throw new IllegalArgumentException("limit must not be negative");
      }
      int limit = request.getLimit() == 0 ? MAX_PENDING : Math.min(MAX_PENDING, request.getLimit());
      ListPendingResponse.Builder out = ListPendingResponse.newBuilder();
      for (var b : ledger.read(tx -> CiBuilds.waiting(tx, queue, limit))) {
        out.addBuilds(info(b));
      }
      response.onNext(out.build());
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
    }
  }

  @Override
  public void getBuild(GetBuildRequest request, StreamObserver<CiBuild> response) {
    try {
      String id = Bounds.id("build_id", request.getBuildId());
      var build = ledger.read(tx -> CiBuilds.find(tx, id)).orElseThrow(() -> new RequestRefused(
          RequestRefused.Kind.BUILD_NOT_FOUND, "no external build '" + id + "'"));
      response.onNext(info(build));
      response.onCompleted();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
    }
  }

  private String known(String queue) {
    if (queues.find(queue).isEmpty()) {
      throw new RequestRefused(RequestRefused.Kind.UNKNOWN_QUEUE, "unknown queue '" + Bounds.text("queue", queue)
          + "'; configured queues: " + queues.names());
    }
    return queue;
  }

  private CiBuild info(dev.conveyor.submitqueue.ci.CiBuild b) {
    CiBuild.Builder out = CiBuild.newBuilder().setBuildId(b.buildId()).setQueue(b.queue()).setPathId(b.pathId())
        .setRef(b.stagingRef()).setSha(b.sha()).setState(b.state().name())
        .setReason(b.reason() == null ? "" : b.reason()).setCreatedAtMs(b.createdAt().toEpochMilli())
        .setDeadlineMs(b.deadline().toEpochMilli())
        .setRemote(queues.find(b.queue()).map(q -> CiBuilds.remoteShown(q.git().origin())).orElse(""));
    for (String check : b.requiredChecks()) {
      CiCheck.Builder c = CiCheck.newBuilder().setName(check).setState("PENDING");
      for (var r : b.reports()) {
        if (r.check().equals(check)) {
          c.setState(r.passed() ? "PASSED" : "FAILED").setUrl(r.url() == null ? "" : r.url())
              .setReportedBy(r.reportedBy()).setReportedAtMs(r.reportedAt().toEpochMilli());
        }
      }
      out.addChecks(c);
    }
    return out.build();
  }

}
