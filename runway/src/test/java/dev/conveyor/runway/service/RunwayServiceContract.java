package dev.conveyor.runway.service;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runway behind its topics: requests in, results out, retries and dead letters, on both ledgers. */
public abstract class RunwayServiceContract extends LedgerTestBase {
  @TempDir
  Path tmp;

  private GitRepos repos;
  private Streams streams;
  private GitMerger merger;
  private RunwayService service;
  private final java.util.List<Consumer> callers = new java.util.ArrayList<>();
  /** Raw result payloads by correlation id, as the calling service receives them. */
  private final Map<String, String> results = new ConcurrentHashMap<>();
  /** Push attempts Runway made (every try, including retries of a busy remote). */
  private final java.util.concurrent.atomic.AtomicInteger pushes = new java.util.concurrent.atomic.AtomicInteger();

  @BeforeEach
  void startRunway() {
    repos = GitRepos.create(tmp.resolve("repos"), Map.of("README.md", "hello\n", "src/app.txt", "one\ntwo\n"));
    TopicRegistry registry = TopicRegistry.builder()
        .register(RunwayTopics.CHECK, TopicConfig.defaults("runway-check").withPartitions(4).withMaxAttempts(2))
        .register(RunwayTopics.MERGE, TopicConfig.defaults("runway-merge").withPartitions(4).withMaxAttempts(2))
        .register(RunwayTopics.CHECK_SIGNAL, TopicConfig.defaults("runway-check-signal").withPartitions(4))
        .register(RunwayTopics.MERGE_SIGNAL, TopicConfig.defaults("runway-merge-signal").withPartitions(4))
        .build();
    streams = new Streams(ledger, registry);
    merger = new GitMerger(new RepositoryCache(tmp.resolve("cache")), clock,
        new org.eclipse.jgit.lib.PersonIdent("Conveyor Runway", "runway@conveyor.invalid"),
        (queue, expected, newTip, attempt) -> pushes.incrementAndGet());
    RunwayQueues queues = RunwayQueues.of(QueueConfig.of("app", repos.originUrl(), "main", Strategy.REBASE),
        QueueConfig.of("unreachable", tmp.resolve("no-such-repo.git").toString(), "main", Strategy.REBASE));
    service = RunwayService.start(streams, merger, queues, fast("node-1"));
    ConsumerOptions callerOptions = new ConsumerOptions("caller", "c", 2, 16, Duration.ofSeconds(15),
        Duration.ofSeconds(1), Duration.ofSeconds(8));
    for (TopicKey signal : java.util.List.of(RunwayTopics.MERGE_SIGNAL, RunwayTopics.CHECK_SIGNAL)) {
      callers.add(streams.consume(signal, callerOptions, d -> collect(d.payload())));
    }
  }

  private dev.conveyor.messagequeue.consume.Outcome collect(byte[] payload) throws Exception {
    String json = new String(payload, StandardCharsets.UTF_8);
    results.put(ProtoJson.fromJson(json, MergeResult.getDefaultInstance()).getId(), json);
    return dev.conveyor.messagequeue.consume.Outcome.ack();
  }

  @AfterEach
  void stopRunway() {
    callers.forEach(c -> c.close(Duration.ofSeconds(5)));
    service.close();
    merger.close();
    streams.close();
  }

  private static ConsumerOptions fast(String member) {
    return ConsumerOptions.defaults("runway", member)
        .withNackBackoff(Duration.ofSeconds(1), Duration.ofSeconds(8));
  }

  private static MergeRequest request(String id, String queue, String uri) {
    return MergeRequest.newBuilder().setId(id).setQueueName(queue).addSteps(MergeStep.newBuilder().setStepId("s1")
        .setChange(Change.newBuilder().addUris(uri))).build();
  }

  private void send(TopicKey topic, String id, byte[] payload) {
    ledger.transact(tx -> streams.publisher().publish(tx, topic, "app", IntentId.of(id, "request"), payload));
  }

  private String awaitResult(String id) {
    await().atMost(Duration.ofSeconds(30)).until(() -> results.containsKey(id));
    return results.get(id);
  }

  private MergeResult parsed(String json) throws Exception {
    return ProtoJson.fromJson(json, MergeResult.getDefaultInstance());
  }

  @Test
  void mergeResultEchoesTheRequestAsSnakeCaseProtoJson() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/app.txt", "ONE\ntwo\n"));
    MergeRequest request = MergeRequest.newBuilder().setId("batch-17").setQueueName("app")
        .addSteps(MergeStep.newBuilder().setStepId("req-1").setStrategy(Strategy.REBASE)
            .setChange(Change.newBuilder().addUris(changeUri("feature", head))))
        .addSteps(MergeStep.newBuilder().setStepId("req-2").setStrategy(Strategy.SQUASH_REBASE)
            .setChange(Change.newBuilder().addUris(changeUri("feature", head))))
        .build();
    String wire = ProtoJson.toJson(request);
    assertThat(wire).contains("\"queue_name\":\"app\"", "\"step_id\":\"req-1\"", "\"strategy\":\"SQUASH_REBASE\"");

    send(RunwayTopics.MERGE, "batch-17", wire.getBytes(StandardCharsets.UTF_8));

    String raw = awaitResult("batch-17");
    assertThat(raw).contains("\"id\":\"batch-17\"", "\"queue_name\":\"app\"", "\"outcome\":\"SUCCEEDED\"",
        "\"step_id\":\"req-1\"", "\"step_id\":\"req-2\"", "\"outputs\":[\"" + head + "\"]");
    assertThat(raw).doesNotContain("queueName", "stepId");
    MergeResult result = parsed(raw);
    assertThat(result.getStepsList()).extracting(s -> s.getStepId()).containsExactly("req-1", "req-2");
    assertThat(result.getSteps(1).getOutputsList()).isEmpty();
    assertThat(result.getSteps(1).getReason()).isEqualTo("already present");
    assertThat(repos.tip("main")).isEqualTo(head);
  }

  @Test
  void checkIsADryRunAnsweredOnTheCheckSignal() throws Exception {
    repos.commit("main", "main moves", files("README.md", "moved\n"));
    String head = repos.commit("feature", "main~1", "feature", files("src/app.txt", "ONE\ntwo\n"));
    String tip = repos.tip("main");

    send(RunwayTopics.CHECK, "check-1", ProtoJson.toBytes(request("check-1", "app", changeUri("feature", head))));

    MergeResult result = parsed(awaitResult("check-1"));
    assertThat(result.getOutcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.getSteps(0).getOutputsList()).isEmpty();
    assertThat(repos.tip("main")).isEqualTo(tip);
  }

  @Test
  void conflictsAndInvalidRequestsAreFailedResults() throws Exception {
    repos.commit("main", "main edits app", files("src/app.txt", "uno\ntwo\n"));
    String clash = repos.commit("clash", "main~1", "clash", files("src/app.txt", "eins\ntwo\n"));

    send(RunwayTopics.MERGE, "m-clash", ProtoJson.toBytes(request("m-clash", "app", changeUri("clash", clash))));
    send(RunwayTopics.MERGE, "m-queue", ProtoJson.toBytes(request("m-queue", "nope", changeUri("clash", clash))));
    send(RunwayTopics.MERGE, "m-uri", ProtoJson.toBytes(request("m-uri", "app", "clash@" + clash)));

    MergeResult conflict = parsed(awaitResult("m-clash"));
    assertThat(conflict.getOutcome()).isEqualTo(Outcome.FAILED);
    assertThat(conflict.getReason()).contains("step 's1'", "src/app.txt");
    assertThat(conflict.getSteps(0).getReason()).isEqualTo(conflict.getReason());
    assertThat(parsed(awaitResult("m-queue")).getReason()).contains("unknown queue 'nope'", "[app, unreachable]");
    assertThat(parsed(awaitResult("m-uri")).getReason()).contains("only the change:// scheme");
  }

  @Test
  void aRemoteThatDoesNotExistIsAnsweredFailedAtOnceNamingIt() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/app.txt", "ONE\ntwo\n"));

    send(RunwayTopics.MERGE, "m-down", ProtoJson.toBytes(request("m-down", "unreachable", changeUri("feature", head))));

    MergeResult result = parsed(awaitResult("m-down"));
    assertThat(result.getOutcome()).isEqualTo(Outcome.FAILED);
    assertThat(result.getQueueName()).isEqualTo("unreachable");
    assertThat(result.getReason()).contains("the remote refused runway", "no-such-repo.git")
        .doesNotContain("gave up");
    assertThat(streams.deadLetters().list("runway-merge", 0, 10)).isEmpty();
  }

  @Test
  void aPushRefusedWithFailedToLockWaitsForTheLockAndLandsWithoutFailingOrUsingAttempts() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/app.txt", "ONE\ntwo\n"));
    // another writer holds origin's ref lock: every push is refused "failed to lock" until it goes
    java.nio.file.Path lock = repos.origin().resolve("refs/heads/main.lock");
    java.nio.file.Files.writeString(lock, "held by another writer\n");

    send(RunwayTopics.MERGE, "m-locked", ProtoJson.toBytes(request("m-locked", "app", changeUri("feature", head))));
    // the topic allows 2 attempts; three deliveries run out their in-merge retries and are postponed
    for (int delivery = 1; delivery <= 3; delivery++) {
      await().atMost(Duration.ofSeconds(60)).until(() -> ledger.transact(tx -> tx.queryLong(
          "SELECT COUNT(*) FROM mq_group_partitions WHERE group_name = 'runway' AND topic = 'runway-merge'"
              + " AND head_not_before > ? AND head_last_error LIKE '%failed to lock%'", clock.millis())) == 1);
      assertThat(results).doesNotContainKey("m-locked");
      long attempts = ledger.transact(tx -> tx.queryLong("SELECT MAX(head_attempts) FROM mq_group_partitions"
          + " WHERE group_name = 'runway' AND topic = 'runway-merge'"));
      assertThat(attempts).as("attempts given back").isZero();
      clock.advance(Duration.ofMinutes(2));
    }
    assertThat(pushes.get()).isGreaterThanOrEqualTo(18);
    java.nio.file.Files.delete(lock);

    MergeResult result = parsed(awaitResult("m-locked"));
    assertThat(result.getOutcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(repos.tip("main")).isEqualTo(head);
    assertThat(streams.deadLetters().list("runway-merge", 0, 10)).isEmpty();
  }

  @Test
  void aMergeRedeliveredAfterItsPushFindsItsCompletedClaimAndDoesNotPushAgain() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/app.txt", "ONE\ntwo\n"));
    MergeRequest request = request("m-again", "app", changeUri("feature", head));
    var message = new dev.conveyor.messagequeue.stream.StreamMessage("runway-merge", 0, 1, "m-again", "app",
        ProtoJson.toBytes(request), clock.instant());
    var handler = new MergeRequestHandler(merger, RunwayQueues.of(QueueConfig.of("app", repos.originUrl(), "main",
        Strategy.REBASE)), streams.publisher(), RunwayTopics.MERGE,
        new dev.conveyor.messagequeue.effects.EffectClaims(ledger), "node-a");
    var scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    try {
      var first = handler.handle(dev.conveyor.messagequeue.consume.Redeliveries.of(message, 1, "runway", scheduler));
      assertThat(first).isInstanceOf(dev.conveyor.messagequeue.consume.Outcome.Ack.class);
      assertThat(pushes.get()).isEqualTo(1);
      assertThat(repos.tip("main")).isEqualTo(head);
      // node-a dies here: its ack (and the result it publishes) never commits. The remote goes away too,
      // so a second merge could not even fetch.
      java.nio.file.Path moved = tmp.resolve("origin-away.git");
      java.nio.file.Files.move(repos.origin(), moved);

      var again = handler.handle(dev.conveyor.messagequeue.consume.Redeliveries.of(message, 2, "runway", scheduler));
      assertThat(again).isInstanceOf(dev.conveyor.messagequeue.consume.Outcome.Ack.class);
      assertThat(pushes.get()).as("no second push attempt").isEqualTo(1);
      ledger.transact(tx -> {
        ((dev.conveyor.messagequeue.consume.Outcome.Ack) again).action().run(tx);
        return null;
      });
      MergeResult result = parsed(awaitResult("m-again"));
      assertThat(result.getOutcome()).isEqualTo(Outcome.SUCCEEDED);
      assertThat(result.getSteps(0).getOutputsList()).containsExactly(head);
      var claim = new dev.conveyor.messagequeue.effects.EffectClaims(ledger)
          .view(MergeRequestHandler.CLAIM_SCOPE, "app/m-again").orElseThrow();
      assertThat(claim.state()).isEqualTo("COMPLETED");
      assertThat(claim.transitions()).isZero();
      java.nio.file.Files.move(moved, repos.origin());
    } finally {
      scheduler.shutdownNow();
    }
  }

  @Test
  void undecodablePayloadsAreDeadLetteredWithTheirError() throws Exception {
    send(RunwayTopics.MERGE, "garbage", "{not json".getBytes(StandardCharsets.UTF_8));
    send(RunwayTopics.MERGE, "typed", "{\"id\":\"typed-1\",\"queue_name\":\"app\",\"steps\":\"oops\"}"
        .getBytes(StandardCharsets.UTF_8));

    MergeResult typed = parsed(awaitResult("typed-1"));
    assertThat(typed.getOutcome()).isEqualTo(Outcome.FAILED);
    assertThat(typed.getReason()).contains("after 1 attempt:", "not a valid conveyor.runway.messagequeue.MergeRequest");
    await().atMost(Duration.ofSeconds(30)).until(() -> streams.deadLetters().list("runway-merge", 0, 10).size() == 2);
    assertThat(streams.deadLetters().list("runway-merge", 0, 10))
        .allSatisfy(e -> assertThat(e.letter().getLastError()).contains("not a valid"));
  }
}
