package dev.conveyor.app.web;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A ledger holding far more than the status page shows — requests with the largest change lists and
 * reasons the gateway accepts, many queues, capture roots, a huge job tree and dead letters — yields
 * a bounded snapshot: the newest N per section, with counts of the rest.
 */
class StatusViewBoundsTest extends LedgerTestBase {
  @TempDir static Path dir;
  private static final StatusLimits LIMITS = StatusLimits.DEFAULT;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @Test
  void aLedgerWithFarMoreRowsThanShownYieldsABoundedSnapshotWithCountsOfTheRest() throws Exception {
    String uri = "change://origin/refs/heads/" + "b".repeat(1_900) + "@" + "a".repeat(40); // ~2 KiB, the bound
    ledger.transact(tx -> {
      for (int i = 0; i < 80; i++) {
        // a live request's change is unique per queue: each request gets its own 100 URIs
        List<String> uris = Collections.nCopies(100, uri.replace("@", i + "@"));
        RequestRecord r = Requests.create(tx, "app", Requests.allocate(tx, "app"), uris, Strategy.REBASE);
        for (int step = 0; step < 15; step++) { // a long history, each step with a 4 KiB reason
          r = Requests.get(tx, r.requestId());
          Requests.transition(tx, r, step % 2 == 0 ? dev.conveyor.api.submitqueue.RequestInfo.State.VALIDATED
              : dev.conveyor.api.submitqueue.RequestInfo.State.STARTED, "r".repeat(4096));
        }
      }
      for (int q = 0; q < 25; q++) {
        String queue = String.format("q%02d", q);
        Requests.create(tx, queue, Requests.allocate(tx, queue), List.of(uri), Strategy.REBASE);
      }
      var publisher = new Streams(ledger, Topics.registry()).publisher();
      for (int i = 0; i < 50; i++) {
        publisher.append(tx, "runway-check.dlq", 1, "k", "letter-" + i, ProtoJson.toBytes(DeadLetter.newBuilder()
            .setOriginalTopic("runway-check").setLastError("e".repeat(4096)).setAttempts(3).build()));
      }
      return null;
    });
    for (int i = 0; i < 30; i++) {
      clock.advance(Duration.ofSeconds(1));
      ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).laneKey("plan-table:t" + i).build());
    }
    clock.advance(Duration.ofSeconds(1));
    String big = ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    var planner = ledger.jobs().leaseOne(LeaseRequest.of("p", Set.of(JobKind.PLAN_SNAPSHOT), Duration.ofSeconds(30)))
        .orElseThrow();
    List<JobSpec> groups = new ArrayList<>();
    for (int i = 0; i < 150; i++) {
      groups.add(JobSpec.builder(JobKind.EXEC_FILE_GROUP).payload(LeasedFileGroupExecution.newBuilder()
          .setTableId("t").setSnapshotId("s").setGroupId("g" + i).build().toByteArray()).build());
    }
    ledger.jobs().fanOut(big, planner.epoch(), groups);

    String json = new StatusView(ledger, "node-1", () -> List.of("app"), 0, LIMITS).json();
    JsonNode s = new ObjectMapper().readTree(json);

    assertThat(json.length()).as("bounded regardless of the ledger's ~20 MB of requests").isLessThan(1_000_000);
    assertThat(s.get("queues")).hasSize(LIMITS.queues());
    assertThat(s.get("omitted").get("queues").asLong()).isEqualTo(26 - LIMITS.queues());
    JsonNode app = s.get("queues").get(0);
    assertThat(app.get("name").asText()).isEqualTo("app");
    assertThat(app.get("requests")).hasSize(LIMITS.requestsPerQueue());
    assertThat(app.get("omittedRequests").asLong()).isEqualTo(80 - LIMITS.requestsPerQueue());
    JsonNode newest = app.get("requests").get(0);
    assertThat(newest.get("id").asText()).isEqualTo("app/80");
    assertThat(newest.get("changes")).hasSize(LIMITS.changesPerRequest());
    assertThat(newest.get("omittedChanges").asLong()).isEqualTo(100 - LIMITS.changesPerRequest());
    assertThat(newest.get("changes").get(0).asText()).hasSize(LIMITS.textChars()).endsWith("…");
    assertThat(newest.get("reason").asText()).hasSize(LIMITS.textChars());
    assertThat(newest.get("timeline")).hasSize(LIMITS.stepsPerRequest());
    assertThat(newest.get("omittedSteps").asLong()).isEqualTo(16 - LIMITS.stepsPerRequest());

    assertThat(s.get("captures")).hasSize(LIMITS.captureRoots());
    assertThat(s.get("omitted").get("captures").asLong()).isEqualTo(31 - LIMITS.captureRoots());
    JsonNode tree = s.get("captures").get(0);
    assertThat(tree.get("id").asText()).isEqualTo(big);
    assertThat(tree.get("children")).hasSize(LIMITS.nodesPerCapture());
    assertThat(tree.get("omitted").asLong()).isEqualTo(150 - LIMITS.nodesPerCapture());

    JsonNode dlq = null;
    for (JsonNode t : s.get("topics")) {
      if (t.get("topic").asText().equals("runway-check.dlq")) {
        dlq = t;
      }
    }
    assertThat(dlq).isNotNull();
    assertThat(dlq.get("letters")).hasSize(LIMITS.lettersPerTopic());
    assertThat(dlq.get("letters").get(0).get("seq").asLong()).isEqualTo(50);
    assertThat(dlq.get("omittedLetters").asLong()).isEqualTo(50 - LIMITS.lettersPerTopic());
    assertThat(dlq.get("letters").get(0).get("error").asText()).hasSize(LIMITS.textChars());
  }
}
