package dev.conveyor.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.ByteString;
import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.durability.AcquireCursorRequest;
import dev.conveyor.api.durability.AcquireCursorResponse;
import dev.conveyor.api.durability.ClaimEffectRequest;
import dev.conveyor.api.durability.ClaimEffectResponse;
import dev.conveyor.api.durability.CommitCursorRequest;
import dev.conveyor.api.durability.CompleteEffectRequest;
import dev.conveyor.api.durability.DurabilityGrpc;
import dev.conveyor.api.durability.Effect;
import dev.conveyor.api.durability.EffectState;
import dev.conveyor.api.durability.EmitSignalRequest;
import dev.conveyor.api.durability.EmitSignalResponse;
import dev.conveyor.api.durability.FollowSignalsRequest;
import dev.conveyor.api.durability.GetCursorRequest;
import dev.conveyor.api.durability.GetSummaryRequest;
import dev.conveyor.api.durability.ListEffectsRequest;
import dev.conveyor.api.durability.ListEffectsResponse;
import dev.conveyor.api.durability.ReadSignalsRequest;
import dev.conveyor.api.durability.ReadSignalsResponse;
import dev.conveyor.api.durability.ReleaseEffectRequest;
import dev.conveyor.api.durability.RenewEffectRequest;
import dev.conveyor.api.durability.Signal;
import dev.conveyor.api.durability.SignalEvent;
import dev.conveyor.api.durability.Summary;
import dev.conveyor.durability.service.DurabilityRuntime;
import dev.conveyor.durability.signals.SignalRetention;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.supervise.Supervisor;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The Durability service through gRPC on loopback, on the concrete class's ledger. */
public abstract class DurabilityContract extends LedgerTestBase {
  private DurabilityRuntime runtime;
  private Server server;
  private ManagedChannel channel;
  private DurabilityGrpc.DurabilityBlockingStub stub;

  @BeforeEach
  void startServer() throws Exception {
    runtime = DurabilityRuntime.start(ledger, 16);
    server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(runtime.service())
        .build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    stub = DurabilityGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
  }

  @AfterEach
  void stopServer() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    runtime.close();
  }

  private EmitSignalResponse emit(String stream, String partition, String intent, String payload) {
    return stub.emitSignal(EmitSignalRequest.newBuilder().setStream(stream).setPartitionKey(partition)
        .setIntentId(intent).setPayload(ByteString.copyFromUtf8(payload)).build());
  }

  private ReadSignalsResponse read(String stream, String partition, long after) {
    return stub.readSignals(ReadSignalsRequest.newBuilder().setStream(stream).setPartition(partition)
        .setAfterSequence(after).setLimit(1000).build());
  }

  private static String reason(Throwable t) {
    return ErrorStatus.reasonOf(t);
  }

  @Test
  void theSameIntentIdAnswersTheFirstSequenceAndStoresNothingNew() {
    EmitSignalResponse first = emit("run-1", "", "step-a:started", "a");
    EmitSignalResponse second = emit("run-1", "", "step-b:started", "b");
    EmitSignalResponse again = emit("run-1", "", "step-a:started", "something else");
    assertThat(first.getPartition()).isEqualTo("default");
    assertThat(first.getSequence()).isEqualTo(1);
    assertThat(second.getSequence()).isEqualTo(2);
    assertThat(again.getSequence()).isEqualTo(1);
    assertThat(again.getDuplicate()).isTrue();
    ReadSignalsResponse all = read("run-1", "default", 0);
    assertThat(all.getSignalsList()).extracting(Signal::getSequence).containsExactly(1L, 2L);
    assertThat(all.getSignals(0).getPayload().toStringUtf8()).isEqualTo("a");
    assertThat(all.getLastSequence()).isEqualTo(2);
    // partitions number their signals on their own
    assertThat(emit("run-1", "other", "step-a:started", "x").getSequence()).isEqualTo(1);
  }

  @Test
  void eightConcurrentEmittersGetGapFreeSequencesEachIntentOnce() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(8);
    Set<String> intents = ConcurrentHashMap.newKeySet();
    List<Future<?>> done = new ArrayList<>();
    for (int e = 0; e < 8; e++) {
      int emitter = e;
      done.add(pool.submit(() -> {
        for (int i = 0; i < 40; i++) {
          // every emitter also repeats one shared intent per round: stored once
          emit("busy", "p", "shared-" + i, "shared");
          emit("busy", "p", "e" + emitter + "-" + i, "own");
          intents.add("e" + emitter + "-" + i);
        }
        return null;
      }));
    }
    for (Future<?> f : done) {
      f.get(120, TimeUnit.SECONDS);
    }
    pool.shutdown();
    List<Signal> all = new ArrayList<>();
    long after = 0;
    ReadSignalsResponse page;
    do {
      page = read("busy", "p", after);
      all.addAll(page.getSignalsList());
      after = all.isEmpty() ? 0 : all.get(all.size() - 1).getSequence();
    } while (page.getSignalsCount() > 0);
    assertThat(all).hasSize(8 * 40 + 40);
    for (int i = 0; i < all.size(); i++) {
      assertThat(all.get(i).getSequence()).isEqualTo(i + 1);
    }
    Set<String> seen = new HashSet<>();
    all.forEach(s -> assertThat(seen.add(s.getIntentId())).as("intent %s once", s.getIntentId()).isTrue());
    assertThat(seen).containsAll(intents);
  }

  @Test
  void replayBelowRetentionReportsTheGapAndTheFirstRetainedPosition() {
    for (int i = 1; i <= 10; i++) {
      emit("old", "", "i" + i, "v" + i);
    }
    clock.advance(Duration.ofDays(2));
    for (int i = 11; i <= 15; i++) {
      emit("old", "", "i" + i, "v" + i);
    }
    long deleted = new SignalRetention(Duration.ofDays(1)).collect(ledger);
    assertThat(deleted).isEqualTo(10);

    ReadSignalsResponse fromZero = read("old", "", 0);
    assertThat(fromZero.hasGap()).isTrue();
    assertThat(fromZero.getGap().getRequestedAfter()).isEqualTo(0);
    assertThat(fromZero.getGap().getFirstRetained()).isEqualTo(11);
    assertThat(fromZero.getSignalsList()).extracting(Signal::getSequence).containsExactly(11L, 12L, 13L, 14L, 15L);
    assertThat(read("old", "", 10).hasGap()).isFalse();
    // an intent collected by retention is no longer remembered; one retained still is
    assertThat(emit("old", "", "i12", "again").getDuplicate()).isTrue();

    List<SignalEvent> events = new CopyOnWriteArrayList<>();
    DurabilityGrpc.newStub(channel).followSignals(FollowSignalsRequest.newBuilder().setStream("old")
        .setAfterSequence(3).build(), collect(events));
    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> events.size() == 6);
    assertThat(events.get(0).hasGap()).isTrue();
    assertThat(events.get(0).getGap().getFirstRetained()).isEqualTo(11);
    emit("old", "", "i16", "live");
    Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> events.size() == 7);
    assertThat(events.get(6).getSignal().getSequence()).isEqualTo(16);
    assertThat(events.get(6).getSignal().getPayload().toStringUtf8()).isEqualTo("live");
  }

  private static StreamObserver<SignalEvent> collect(List<SignalEvent> into) {
    return new StreamObserver<>() {
      @Override
      public void onNext(SignalEvent value) {
        into.add(value);
      }

      @Override
      public void onError(Throwable t) {}

      @Override
      public void onCompleted() {}
    };
  }

  private AcquireCursorResponse acquire(String holder) {
    return stub.acquireCursor(AcquireCursorRequest.newBuilder().setConsumer("indexer").setStream("s")
        .setHolder(holder).setTtlMs(10_000).build());
  }

  private long commit(long sequence, long epoch) {
    return stub.commitCursor(CommitCursorRequest.newBuilder().setConsumer("indexer").setStream("s")
        .setSequence(sequence).setEpoch(epoch).build()).getPosition();
  }

  @Test
  void aCursorMovesOnlyForwardAndOnlyForTheCurrentEpoch() {
    for (int i = 1; i <= 5; i++) {
      emit("s", "", "i" + i, "v");
    }
    AcquireCursorResponse a = acquire("proc-a");
    assertThat(a.getAcquired()).isTrue();
    assertThat(a.getCursor().getPosition()).isZero();
    assertThat(commit(3, a.getCursor().getEpoch())).isEqualTo(3);
    assertThat(commit(2, a.getCursor().getEpoch())).as("never back").isEqualTo(3);
    assertThatThrownBy(() -> commit(6, a.getCursor().getEpoch()))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("INVALID_ARGUMENT"))
        .hasMessageContaining("sequence 6 is past the last signal");

    AcquireCursorResponse busy = acquire("proc-b");
    assertThat(busy.getAcquired()).isFalse();
    assertThat(busy.getCursor().getHolder()).isEqualTo("proc-a");

    clock.advance(Duration.ofSeconds(11)); // proc-a paused past its lease
    AcquireCursorResponse b = acquire("proc-b");
    assertThat(b.getAcquired()).isTrue();
    assertThat(b.getCursor().getEpoch()).isGreaterThan(a.getCursor().getEpoch());
    assertThat(b.getCursor().getPosition()).as("resumes where proc-a committed").isEqualTo(3);
    assertThatThrownBy(() -> commit(5, a.getCursor().getEpoch()))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("CURSOR_FENCED"))
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
            .isEqualTo(Status.Code.FAILED_PRECONDITION));
    assertThat(commit(5, b.getCursor().getEpoch())).isEqualTo(5);
    assertThat(stub.getCursor(GetCursorRequest.newBuilder().setConsumer("indexer").setStream("s").build()))
        .satisfies(c -> {
          assertThat(c.getPosition()).isEqualTo(5);
          assertThat(c.getHolder()).isEqualTo("proc-b");
        });
    assertThatThrownBy(() -> stub.commitCursor(CommitCursorRequest.newBuilder().setConsumer("nobody")
        .setStream("s").setSequence(1).setEpoch(1).build()))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("CURSOR_FENCED"));
  }

  private ClaimEffectResponse claim(String key, String holder, long ttlMs) {
    return stub.claimEffect(ClaimEffectRequest.newBuilder().setSubject("run-7").setKey(key).setHolder(holder)
        .setTtlMs(ttlMs).build());
  }

  private Effect complete(String key, String token, String result) {
    return stub.completeEffect(CompleteEffectRequest.newBuilder().setSubject("run-7").setKey(key).setToken(token)
        .setResult(ByteString.copyFromUtf8(result)).build());
  }

  @Test
  void claimsAreAcquiredHeldCompletedOrLost() {
    ClaimEffectResponse a = claim("charge-card", "step-a", 5_000);
    assertThat(a.hasAcquired()).isTrue();
    ClaimEffectResponse held = claim("charge-card", "step-b", 5_000);
    assertThat(held.hasHeld()).isTrue();
    assertThat(held.getHeld().getHolder()).isEqualTo("step-a");
    assertThat(held.getHeld().getUntilMs()).isEqualTo(a.getAcquired().getExpiresAtMs());

    Effect done = complete("charge-card", a.getAcquired().getToken(), "charged 42");
    assertThat(done.getState()).isEqualTo(EffectState.COMPLETED);
    assertThat(complete("charge-card", a.getAcquired().getToken(), "charged 42").getState())
        .as("a retried completion is answered again").isEqualTo(EffectState.COMPLETED);
    ClaimEffectResponse after = claim("charge-card", "step-b", 5_000);
    assertThat(after.hasCompleted()).isTrue();
    assertThat(after.getCompleted().getResult().toStringUtf8()).isEqualTo("charged 42");
    assertThatThrownBy(() -> complete("charge-card", a.getAcquired().getToken(), "charged twice"))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("CLAIM_LOST"));

    ClaimEffectResponse slow = claim("send-mail", "step-a", 1_000);
    clock.advance(Duration.ofSeconds(2));
    ClaimEffectResponse taken = claim("send-mail", "step-c", 5_000);
    assertThat(taken.hasAcquired()).isTrue();
    assertThat(taken.getAcquired().getTransitions()).isEqualTo(1);
    String stale = slow.getAcquired().getToken();
    assertThatThrownBy(() -> complete("send-mail", stale, "sent"))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("CLAIM_LOST"))
        .hasMessageContaining("held by step-c");
    assertThatThrownBy(() -> stub.renewEffect(RenewEffectRequest.newBuilder().setSubject("run-7").setKey("send-mail")
        .setToken(stale).setTtlMs(1_000).build())).satisfies(e -> assertThat(reason(e)).isEqualTo("CLAIM_LOST"));
    assertThatThrownBy(() -> stub.releaseEffect(ReleaseEffectRequest.newBuilder().setSubject("run-7")
        .setKey("send-mail").setToken(stale).build())).satisfies(e -> assertThat(reason(e)).isEqualTo("CLAIM_LOST"));
    Effect renewed = stub.renewEffect(RenewEffectRequest.newBuilder().setSubject("run-7").setKey("send-mail")
        .setToken(taken.getAcquired().getToken()).setTtlMs(60_000).build());
    assertThat(renewed.getHolder()).isEqualTo("step-c");
    assertThat(renewed.getExpiresAtMs()).isEqualTo(clock.millis() + 60_000);
    Effect released = stub.releaseEffect(ReleaseEffectRequest.newBuilder().setSubject("run-7").setKey("send-mail")
        .setToken(taken.getAcquired().getToken()).build());
    assertThat(released.getState()).isEqualTo(EffectState.RELEASED);
    assertThat(claim("send-mail", "step-d", 1_000).hasAcquired()).isTrue();
  }

  @Test
  void aSummaryAfterACrashBetweenClaimAndCompleteEqualsWhatTheTablesSay() {
    emit("run-9", "", "step-1:started", "s1");
    ClaimEffectResponse crashed = claim9("push", "worker-1");
    assertThat(crashed.hasAcquired()).isTrue();
    emit("run-9", "", "step-1:claimed", "s2");
    // worker-1 dies here: no completion, no release
    Summary during = summary("run-9");
    assertSummaryMatchesTables(during, "run-9");
    assertThat(during.getHeld()).isEqualTo(1);
    assertThat(during.getRecentEffects(0).getState()).isEqualTo(EffectState.HELD);
    assertThat(during.getRecentEffects(0).getHolder()).isEqualTo("worker-1");
    assertThat(during.getRecentSignalsList()).extracting(Signal::getIntentId)
        .containsExactly("step-1:claimed", "step-1:started");

    clock.advance(Duration.ofSeconds(6));
    ClaimEffectResponse resumed = claim9("push", "worker-2");
    stub.completeEffect(CompleteEffectRequest.newBuilder().setSubject("run-9").setKey("push")
        .setToken(resumed.getAcquired().getToken()).setResult(ByteString.copyFromUtf8("ok")).build());
    Summary after = summary("run-9");
    assertSummaryMatchesTables(after, "run-9");
    assertThat(after.getHeld()).isZero();
    assertThat(after.getCompleted()).isEqualTo(1);
    assertThat(after.getRecentEffects(0).getTransitions()).isEqualTo(1);
    assertThat(after.getRecentEffects(0).getResult().toStringUtf8()).isEqualTo("ok");
  }

  private ClaimEffectResponse claim9(String key, String holder) {
    return stub.claimEffect(ClaimEffectRequest.newBuilder().setSubject("run-9").setKey(key).setHolder(holder)
        .setTtlMs(5_000).build());
  }

  private Summary summary(String subject) {
    return stub.getSummary(GetSummaryRequest.newBuilder().setSubject(subject).build());
  }

  private void assertSummaryMatchesTables(Summary s, String subject) {
    String scope = "durable:" + subject; // a client's subjects are scopes of their own
    ledger.read(tx -> {
      assertThat(s.getHeld()).isEqualTo(tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = ?"
          + " AND state = 'HELD'", scope));
      assertThat(s.getCompleted()).isEqualTo(tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = ?"
          + " AND state = 'COMPLETED'", scope));
      List<String> holders = tx.query("SELECT COALESCE(holder, '') FROM effect_claims WHERE scope = ?"
          + " ORDER BY updated_at DESC, effect_key", rs -> rs.getString(1), scope);
      assertThat(s.getRecentEffectsList()).extracting(Effect::getHolder).containsExactlyElementsOf(holders);
      assertThat((long) s.getRecentSignalsCount()).isEqualTo(tx.queryLong(
          "SELECT COUNT(*) FROM durable_signals WHERE stream = ?", subject));
      return null;
    });
  }

  @Test
  void effectsArePagedNewestFirstAndFilteredByState() {
    for (int i = 0; i < 5; i++) {
      ClaimEffectResponse c = claim("k" + i, "h", 5_000);
      if (i % 2 == 0) {
        complete("k" + i, c.getAcquired().getToken(), "r" + i);
      }
      clock.advance(Duration.ofMillis(10));
    }
    List<String> keys = new ArrayList<>();
    String token = "";
    int pages = 0;
    do {
      ListEffectsResponse page = stub.listEffects(ListEffectsRequest.newBuilder().setSubject("run-7").setLimit(2)
          .setPageToken(token).build());
      page.getEffectsList().forEach(e -> keys.add(e.getKey()));
      token = page.getNextPageToken();
      pages++;
    } while (!token.isEmpty());
    assertThat(keys).containsExactly("k4", "k3", "k2", "k1", "k0");
    assertThat(pages).isEqualTo(3);
    assertThat(stub.listEffects(ListEffectsRequest.newBuilder().setState(EffectState.HELD).build()).getEffectsList())
        .extracting(Effect::getKey).containsExactly("k3", "k1");
    String firstPage = stub.listEffects(ListEffectsRequest.newBuilder().setSubject("run-7").setLimit(2).build())
        .getNextPageToken();
    assertThatThrownBy(() -> stub.listEffects(ListEffectsRequest.newBuilder().setSubject("run-8")
        .setPageToken(firstPage).build())).satisfies(e -> assertThat(reason(e)).isEqualTo("INVALID_ARGUMENT"))
        .hasMessageContaining("page_token");
  }

  @Test
  void clientsNeverReachConveyorsOwnClaims() {
    var internal = new dev.conveyor.messagequeue.effects.EffectClaims(ledger);
    var merge = (dev.conveyor.messagequeue.effects.ClaimResult.Acquired) internal.claim("runway.merge", "app/b1",
        "node", Duration.ofSeconds(30));
    internal.complete("runway.merge", "app/b1", merge.token(), "pushed".getBytes(StandardCharsets.UTF_8));

    assertThat(stub.listEffects(ListEffectsRequest.getDefaultInstance()).getEffectsList()).isEmpty();
    assertThat(stub.getSummary(GetSummaryRequest.newBuilder().setSubject("runway.merge").build()).getCompleted())
        .isZero();
    // a client's subject named like an internal scope is its own: claiming and completing it changes nothing else
    ClaimEffectResponse forged = stub.claimEffect(ClaimEffectRequest.newBuilder().setSubject("runway.merge")
        .setKey("app/b1").setHolder("intruder").setTtlMs(60_000).build());
    assertThat(forged.hasAcquired()).isTrue();
    stub.completeEffect(CompleteEffectRequest.newBuilder().setSubject("runway.merge").setKey("app/b1")
        .setToken(forged.getAcquired().getToken()).setResult(ByteString.copyFromUtf8("forged")).build());
    var stored = internal.view("runway.merge", "app/b1").orElseThrow();
    assertThat(new String(stored.result(), StandardCharsets.UTF_8)).isEqualTo("pushed");
    assertThat(stub.listEffects(ListEffectsRequest.getDefaultInstance()).getEffectsList())
        .extracting(Effect::getSubject).containsExactly("runway.merge");
  }

  @Test
  void aClientThatLostTheAnswerToItsClaimTakesItAgainWithoutWaiting() {
    ClaimEffectResponse first = claim("retry-me", "pod-1", 60_000);
    assertThat(claim("retry-me", "pod-1", 60_000).hasHeld()).as("two paths of one holder never both get it")
        .isTrue();
    ClaimEffectResponse retried = stub.claimEffect(ClaimEffectRequest.newBuilder().setSubject("run-7")
        .setKey("retry-me").setHolder("pod-1").setTtlMs(60_000).setReclaimOwn(true).build());
    assertThat(retried.hasAcquired()).isTrue();
    assertThat(retried.getAcquired().getToken()).isNotEqualTo(first.getAcquired().getToken());
    assertThat(retried.getAcquired().getTransitions()).isZero();
    assertThat(claim("retry-me", "pod-2", 60_000).hasHeld()).isTrue();
    assertThatThrownBy(() -> complete("retry-me", first.getAcquired().getToken(), "x"))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("CLAIM_LOST"));
  }

  @Test
  void pagesStopAtAMegabyteSoEveryPageFitsInOneMessage() {
    String big = "x".repeat(60 * 1024);
    for (int i = 1; i <= 40; i++) {
      emit("big", "", "b" + i, big);
    }
    ReadSignalsResponse first = read("big", "", 0);
    assertThat(first.getSignalsCount()).isBetween(1, 20);
    assertThat(first.getLastSequence()).isEqualTo(40);
    long after = first.getSignals(first.getSignalsCount() - 1).getSequence();
    int total = first.getSignalsCount();
    while (after < 40) {
      ReadSignalsResponse next = read("big", "", after);
      assertThat(next.hasGap()).isFalse();
      total += next.getSignalsCount();
      after = next.getSignals(next.getSignalsCount() - 1).getSequence();
    }
    assertThat(total).isEqualTo(40);
    List<SignalEvent> events = new CopyOnWriteArrayList<>();
    DurabilityGrpc.newStub(channel).followSignals(FollowSignalsRequest.newBuilder().setStream("big").build(),
        collect(events));
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> events.size() == 40);
  }

  @Test
  void aCursorRetentionForgotIsMadeAgainWithAnEpochNoOldHolderHas() {
    emit("s", "", "i1", "v");
    AcquireCursorResponse a = acquire("proc-a");
    commit(1, a.getCursor().getEpoch());
    clock.advance(Duration.ofDays(31));
    assertThat(new SignalRetention(Duration.ofDays(30)).collect(ledger)).isEqualTo(2); // the signal and the cursor
    AcquireCursorResponse again = acquire("proc-b");
    assertThat(again.getCursor().getPosition()).isZero();
    assertThat(again.getCursor().getEpoch()).isGreaterThan(a.getCursor().getEpoch());
    assertThatThrownBy(() -> commit(0, a.getCursor().getEpoch()))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("CURSOR_FENCED"));
    assertThat(read("s", "", 0).getGap().getFirstRetained()).isEqualTo(2);
  }

  @Test
  void aCraftedPageTokenIsRefusedBeforeItReachesTheLedger() {
    String crafted = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        "v1\n\n\n0\ndurable:x\u0000\nk".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> stub.listEffects(ListEffectsRequest.newBuilder().setPageToken(crafted).build()))
        .satisfies(e -> assertThat(reason(e)).isEqualTo("INVALID_ARGUMENT"))
        .hasMessageContaining("page_token is not one this service issued");
    String internal = java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(
        "v1\n\n\n0\nrunway.merge\nk".getBytes(StandardCharsets.UTF_8));
    assertThatThrownBy(() -> stub.listEffects(ListEffectsRequest.newBuilder().setPageToken(internal).build()))
        .hasMessageContaining("page_token is not one this service issued");
  }

  @Test
  void badInputIsRefusedNamingTheField() {
    assertThatThrownBy(() -> emit("has space", "", "i", "v")).hasMessageContaining("stream must be")
        .satisfies(e -> assertThat(reason(e)).isEqualTo("INVALID_ARGUMENT"));
    assertThatThrownBy(() -> emit("s", "p#1", "i", "v")).hasMessageContaining("partition_key must be");
    assertThatThrownBy(() -> emit("s", "", "", "v")).hasMessageContaining("intent_id is required");
    assertThatThrownBy(() -> emit("s", "", "x".repeat(257), "v")).hasMessageContaining("intent_id must be at most");
    assertThatThrownBy(() -> emit("s", "", "i", "x".repeat(64 * 1024 + 1))).hasMessageContaining("payload is");
    assertThatThrownBy(() -> emit("s".repeat(129), "", "i", "v")).hasMessageContaining("stream must be");
    assertThatThrownBy(() -> stub.readSignals(ReadSignalsRequest.newBuilder().setStream("s").setLimit(5000).build()))
        .hasMessageContaining("limit must be between 0 and 1000");
    assertThatThrownBy(() -> stub.readSignals(ReadSignalsRequest.newBuilder().setStream("s").setAfterSequence(-1)
        .build())).hasMessageContaining("after_sequence must not be negative");
    assertThatThrownBy(() -> claim("k", "h", 0)).hasMessageContaining("ttl_ms must be between");
    assertThatThrownBy(() -> claim("k", "h\u0000", 1000)).hasMessageContaining("holder must not contain");
    assertThatThrownBy(() -> stub.completeEffect(CompleteEffectRequest.newBuilder().setSubject("run-7").setKey("k")
        .setToken("t").setResult(ByteString.copyFrom(new byte[64 * 1024 + 1])).build()))
        .hasMessageContaining("result is");
    assertThatThrownBy(() -> stub.listEffects(ListEffectsRequest.newBuilder().setPageToken("!!").build()))
        .hasMessageContaining("page_token is not one this service issued");
    assertThatThrownBy(() -> stub.getSummary(GetSummaryRequest.newBuilder().setSubject("s").setLimit(101).build()))
        .hasMessageContaining("limit must be between 0 and 100");
  }
}
