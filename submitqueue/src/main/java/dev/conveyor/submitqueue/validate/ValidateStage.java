package dev.conveyor.submitqueue.validate;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.RequestSignal;
import dev.conveyor.messagequeue.consume.Delivery;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.change.InvalidChangeUriException;
import dev.conveyor.runway.merge.GitFailures;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageContext;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Learns which paths the change touches (for conflict analysis) and asks Runway whether it applies
 * to the target: the full MergeRequest goes to Runway's check topic with the request id as the
 * correlation id. A change Runway cannot even fetch fails the request here.
 */
public final class ValidateStage implements MessageHandler {
  private final StageContext ctx;

  private AffectedTargets targets;

  public ValidateStage(StageContext ctx) {
    this.ctx = ctx;
  }

  private synchronized AffectedTargets targets() throws IOException {
    if (targets == null) {
      targets = new AffectedTargets(ctx.merger(), Files.createTempDirectory("conveyor-targets"));
    }
    return targets;
  }

  @Override
  public Outcome handle(Delivery delivery) {
    RequestSignal s;
    try {
      s = delivery.payloadAs(RequestSignal.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject(e.getMessage());
    }
    RequestRecord r = ctx.ledger().transact(tx -> Requests.find(tx, s.getRequestId())).orElse(null);
    if (r == null || r.state() != State.STARTED) {
      return Outcome.ack();
    }
    SubmitQueueConfig queue = ctx.queue(r.queue());
    Set<String> paths;
    try {
      List<ChangeUri> uris = new ArrayList<>();
      for (String uri : r.uris()) {
        uris.add(ChangeUri.parse(uri));
      }
      paths = ctx.merger().changedPaths(queue.git(), uris);
      var targetsCommand = ctx.queues().targets(queue.name());
      if (targetsCommand.isPresent()) { // conflict analysis compares the change's affected targets instead
        try {
          // the run may outlast the topic's visibility timeout: keep the message ours meanwhile
          delivery.extendVisibility(targetsCommand.get().timeout().plusSeconds(30));
          // the union: changes editing one file still conflict whatever their targets say
          Set<String> analyzed = new java.util.TreeSet<>(paths);
          analyzed.addAll(targets().of(queue, targetsCommand.get(), uris.get(uris.size() - 1), paths));
          paths = analyzed;
        } catch (AffectedTargets.Failed e) {
          String reason = "cannot tell the change's affected targets: " + e.getMessage();
          return Outcome.ack(tx -> fail(tx, r.requestId(), reason));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return Outcome.unavailable("interrupted while finding affected targets");
        }
      }
      String unverified = queue.verify() == SubmitQueueConfig.Verify.EACH_COMMIT
          ? unverifiedCommits(queue, r, ctx.merger().commitsAhead(queue.git(), uris)) : null;
      if (unverified != null) {
        return Outcome.ack(tx -> fail(tx, r.requestId(), unverified));
      }
    } catch (InvalidChangeUriException | MergeRejection e) {
      String reason = e instanceof MergeRejection m ? m.describe() : e.getMessage();
      return Outcome.ack(tx -> fail(tx, r.requestId(), reason));
    } catch (IOException e) {
      if (GitFailures.isTransient(e)) {
        return Outcome.unavailable("cannot fetch the change for now: " + e.getMessage());
      }
      if (GitFailures.isRefusal(e)) {
        String reason = "the remote refused the fetch: " + e.getMessage();
        return Outcome.ack(tx -> fail(tx, r.requestId(), reason));
      }
      return Outcome.nack("cannot fetch the change: " + e.getMessage());
    }
    MergeRequest check = MergeRequest.newBuilder().setId(r.requestId()).setQueueName(r.queue())
        .addSteps(MergeStep.newBuilder().setStepId(r.requestId()).setChange(r.change()).setStrategy(r.strategy()))
        .build();
    Set<String> analyzed = paths;
    return Outcome.ack(tx -> {
      RequestRecord now = Requests.get(tx, r.requestId());
      if (now.state() != State.STARTED) {
        return;
      }
      Requests.setPaths(tx, r.requestId(), analyzed);
      // keyed by the request: checks of different requests run side by side (their results come back keyed by queue)
      ctx.signals().publish(tx, RunwayTopics.CHECK, r.requestId(), IntentId.of(r.requestId(), RunwayTopics.CHECK.value()),
          check);
    });
  }

  /**
   * With {@code verify = each-commit}: why the change would put commits on the target's first-parent line that
   * no build verifies (REBASE and PROMOTE land every commit, MERGE and SQUASH_REBASE one per change URI), or
   * null when it lands one.
   */
  static String unverifiedCommits(SubmitQueueConfig queue, RequestRecord r, List<Integer> commitsAhead) {
    dev.conveyor.api.base.Strategy strategy = queue.git().resolve(r.strategy());
    int landed = switch (strategy) {
      case REBASE, PROMOTE -> commitsAhead.stream().mapToInt(Integer::intValue).sum();
      default -> (int) commitsAhead.stream().filter(n -> n > 0).count();
    };
    if (landed <= 1) {
      return null;
    }
    return "verify = each-commit: this change would put " + landed + " commits on " + queue.git().branch()
        + " (strategy " + strategy + ") and only the last one is built; land it as one commit (one change URI"
        + " with --strategy SQUASH_REBASE)";
  }

  private void fail(dev.conveyor.ledger.Tx tx, String requestId, String reason) throws java.sql.SQLException {
    RequestRecord now = Requests.get(tx, requestId);
    if (now.state() == State.STARTED) {
      ctx.end(tx, now, State.ERROR, "invalid change: " + reason);
    }
  }
}
