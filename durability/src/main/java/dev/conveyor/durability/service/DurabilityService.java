package dev.conveyor.durability.service;

import com.google.protobuf.ByteString;
import dev.conveyor.api.durability.AcquireCursorRequest;
import dev.conveyor.api.durability.AcquireCursorResponse;
import dev.conveyor.api.durability.ClaimEffectRequest;
import dev.conveyor.api.durability.ClaimEffectResponse;
import dev.conveyor.api.durability.CommitCursorRequest;
import dev.conveyor.api.durability.CompleteEffectRequest;
import dev.conveyor.api.durability.Cursor;
import dev.conveyor.api.durability.DurabilityGrpc;
import dev.conveyor.api.durability.Effect;
import dev.conveyor.api.durability.EffectState;
import dev.conveyor.api.durability.EmitSignalRequest;
import dev.conveyor.api.durability.EmitSignalResponse;
import dev.conveyor.api.durability.FollowSignalsRequest;
import dev.conveyor.api.durability.Gap;
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
import dev.conveyor.durability.cursors.Cursors;
import dev.conveyor.durability.names.Names;
import dev.conveyor.durability.signals.SignalRecord;
import dev.conveyor.durability.signals.Signals;
import dev.conveyor.messagequeue.effects.ClaimLostException;
import dev.conveyor.messagequeue.effects.ClaimResult;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.effects.EffectClaims.EffectView;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;

/**
 * The Durability gRPC service: checks every field against {@link Names}, then calls the DAOs (signals,
 * cursors, effect claims); each failure is answered through {@link DurabilityErrors}. Following a stream
 * is handed to {@link SignalFollowers}, which bounds how many run at once.
 */
public final class DurabilityService extends DurabilityGrpc.DurabilityImplBase implements AutoCloseable {
  static final int MAX_LIMIT = 1_000;
  /**
   * Clients' subjects are claim scopes under this prefix: Conveyor's own effects (runway.merge,
   * submitqueue.build) share the table and must never be claimed, completed or read through this service.
   */
  static final String SCOPE_PREFIX = "durable:";
  /**
   * A page's payloads and results stop here (at least one item always goes), far below gRPC's 4 MiB message
   * limit: a page of 64 KiB payloads would otherwise be too large for the client to receive at all.
   */
  static final int PAGE_BYTES = 1 << 20;
  static final int MAX_SUMMARY = 100;

  private final Signals signals;
  private final Cursors cursors;
  private final EffectClaims claims;
  private final SignalFollowers followers;

  public DurabilityService(Signals signals, Cursors cursors, EffectClaims claims, int maxFollowers) {
    this(signals, cursors, claims, maxFollowers, Duration.ofSeconds(1));
  }

  /** {@code poll}: how long a follower waits for a wake-up before it reads again anyway (the fallback). */
  public DurabilityService(Signals signals, Cursors cursors, EffectClaims claims, int maxFollowers, Duration poll) {
    this.signals = signals;
    this.cursors = cursors;
    this.claims = claims;
    this.followers = new SignalFollowers(signals, maxFollowers, poll);
  }

  private static <T> void answer(StreamObserver<T> out, Callable<T> call) {
    T value;
    try {
      value = call.call();
    } catch (Exception e) {
      out.onError(DurabilityErrors.toStatus(e));
      return;
    }
    out.onNext(value);
    out.onCompleted();
  }

  @Override
  public void emitSignal(EmitSignalRequest r, StreamObserver<EmitSignalResponse> out) {
    answer(out, () -> {
      String stream = Names.name("stream", r.getStream());
      String partition = Names.partition("partition_key", r.getPartitionKey());
      String intent = Names.text("intent_id", r.getIntentId(), Names.MAX_INTENT_BYTES);
      byte[] payload = Names.payload("payload", r.getPayload().toByteArray());
      Signals.Emitted e = signals.emit(stream, partition, intent, payload);
      return EmitSignalResponse.newBuilder().setPartition(e.partition()).setSequence(e.sequence())
          .setDuplicate(e.duplicate()).build();
    });
  }

  @Override
  public void readSignals(ReadSignalsRequest r, StreamObserver<ReadSignalsResponse> out) {
    answer(out, () -> {
      String stream = Names.name("stream", r.getStream());
      String partition = Names.partition("partition", r.getPartition());
      long after = Names.sequence("after_sequence", r.getAfterSequence());
      int limit = Names.limit("limit", r.getLimit(), 100, MAX_LIMIT);
      Signals.Page page = signals.read(stream, partition, after, limit, PAGE_BYTES);
      ReadSignalsResponse.Builder b = ReadSignalsResponse.newBuilder().setLastSequence(page.lastSequence());
      page.gap().ifPresent(g -> b.setGap(gap(g)));
      page.signals().forEach(s -> b.addSignals(signal(s)));
      return b.build();
    });
  }

  @Override
  public void followSignals(FollowSignalsRequest r, StreamObserver<SignalEvent> out) {
    String stream;
    String partition;
    long after;
    try {
      stream = Names.name("stream", r.getStream());
      partition = Names.partition("partition", r.getPartition());
      after = Names.sequence("after_sequence", r.getAfterSequence());
    } catch (IllegalArgumentException e) {
      out.onError(DurabilityErrors.toStatus(e));
      return;
    }
    followers.follow(stream, partition, after, out);
  }

  @Override
  public void acquireCursor(AcquireCursorRequest r, StreamObserver<AcquireCursorResponse> out) {
    answer(out, () -> {
      String consumer = Names.name("consumer", r.getConsumer());
      String stream = Names.name("stream", r.getStream());
      String partition = Names.partition("partition", r.getPartition());
      String holder = Names.text("holder", r.getHolder(), Names.MAX_HOLDER_BYTES);
      Duration ttl = Names.ttl("ttl_ms", r.getTtlMs());
      Cursors.Acquisition a = cursors.acquire(consumer, stream, partition, holder, ttl);
      return AcquireCursorResponse.newBuilder().setAcquired(a.acquired()).setCursor(cursor(a.cursor())).build();
    });
  }

  @Override
  public void commitCursor(CommitCursorRequest r, StreamObserver<Cursor> out) {
    answer(out, () -> {
      String consumer = Names.name("consumer", r.getConsumer());
      String stream = Names.name("stream", r.getStream());
      String partition = Names.partition("partition", r.getPartition());
      long sequence = Names.sequence("sequence", r.getSequence());
      return cursor(cursors.commit(consumer, stream, partition, sequence, r.getEpoch()));
    });
  }

  @Override
  public void getCursor(GetCursorRequest r, StreamObserver<Cursor> out) {
    answer(out, () -> cursor(cursors.get(Names.name("consumer", r.getConsumer()),
        Names.name("stream", r.getStream()), Names.partition("partition", r.getPartition()))));
  }

  @Override
  public void claimEffect(ClaimEffectRequest r, StreamObserver<ClaimEffectResponse> out) {
    answer(out, () -> {
      String subject = Names.name("subject", r.getSubject());
      String key = Names.key("key", r.getKey());
      String holder = Names.text("holder", r.getHolder(), Names.MAX_HOLDER_BYTES);
      Duration ttl = Names.ttl("ttl_ms", r.getTtlMs());
      ClaimResult claim = claims.claim(scope(subject), key, holder, ttl, r.getReclaimOwn());
      ClaimEffectResponse.Builder b = ClaimEffectResponse.newBuilder();
      if (claim instanceof ClaimResult.Acquired a) {
        b.setAcquired(ClaimEffectResponse.Acquired.newBuilder().setToken(a.token()).setTransitions(a.transitions())
            .setExpiresAtMs(a.expiresAt().toEpochMilli()));
      } else if (claim instanceof ClaimResult.AlreadyCompleted done) {
        long at = claims.view(scope(subject), key).map(EffectView::completedAtMillis).orElse(0L);
        b.setCompleted(ClaimEffectResponse.Completed.newBuilder().setResult(bytes(done.result())).setCompletedAtMs(at));
      } else if (claim instanceof ClaimResult.Held held) {
        b.setHeld(ClaimEffectResponse.Held.newBuilder().setHolder(held.holder()).setUntilMs(held.until().toEpochMilli()));
      }
      return b.build();
    });
  }

  @Override
  public void renewEffect(RenewEffectRequest r, StreamObserver<Effect> out) {
    answer(out, () -> {
      String subject = Names.name("subject", r.getSubject());
      String key = Names.key("key", r.getKey());
      String token = Names.text("token", r.getToken(), 64);
      Duration ttl = Names.ttl("ttl_ms", r.getTtlMs());
      if (!claims.renew(scope(subject), key, token, ttl)) {
        throw new ClaimLostException(subject, key, claims.whyLost(scope(subject), key, token));
      }
      return effect(subject, key);
    });
  }

  @Override
  public void completeEffect(CompleteEffectRequest r, StreamObserver<Effect> out) {
    answer(out, () -> {
      String subject = Names.name("subject", r.getSubject());
      String key = Names.key("key", r.getKey());
      String token = Names.text("token", r.getToken(), 64);
      byte[] result = r.getResult().toByteArray();
      if (result.length > EffectClaims.MAX_RESULT_BYTES) {
        throw new IllegalArgumentException("result is " + result.length + " bytes; at most "
            + EffectClaims.MAX_RESULT_BYTES);
      }
      claims.complete(scope(subject), key, token, result);
      return effect(subject, key);
    });
  }

  @Override
  public void releaseEffect(ReleaseEffectRequest r, StreamObserver<Effect> out) {
    answer(out, () -> {
      String subject = Names.name("subject", r.getSubject());
      String key = Names.key("key", r.getKey());
      claims.release(scope(subject), key, Names.text("token", r.getToken(), 64));
      return effect(subject, key);
    });
  }

  @Override
  public void listEffects(ListEffectsRequest r, StreamObserver<ListEffectsResponse> out) {
    answer(out, () -> {
      String subject = r.getSubject().isEmpty() ? null : Names.name("subject", r.getSubject());
      String state = r.getState() == EffectState.EFFECT_STATE_UNSPECIFIED ? null : stateName(r.getState());
      int limit = Names.limit("limit", r.getLimit(), 100, MAX_LIMIT);
      EffectClaims.ListPosition after = PageTokens.decode(r.getPageToken(), subject, state);
      List<EffectView> fetched = claims.list(subject == null ? null : scope(subject), SCOPE_PREFIX, state,
          limit + 1, after);
      List<EffectView> page = withinBytes(fetched.subList(0, Math.min(limit, fetched.size())));
      ListEffectsResponse.Builder b = ListEffectsResponse.newBuilder();
      page.forEach(v -> b.addEffects(effect(v)));
      if (fetched.size() > page.size()) {
        EffectView last = page.get(page.size() - 1);
        b.setNextPageToken(PageTokens.encode(new EffectClaims.ListPosition(last.updatedAtMillis(), last.scope(),
            last.key()), subject, state));
      }
      return b.build();
    });
  }

  @Override
  public void getSummary(GetSummaryRequest r, StreamObserver<Summary> out) {
    answer(out, () -> {
      String subject = Names.name("subject", r.getSubject());
      int limit = Names.limit("limit", r.getLimit(), 20, MAX_SUMMARY);
      EffectClaims.Summary s = claims.summary(scope(subject), 0);
      Summary.Builder b = Summary.newBuilder().setSubject(subject).setHeld(s.held()).setCompleted(s.completed())
          .setReleased(s.released());
      withinBytes(claims.list(scope(subject), null, null, limit, null)).forEach(v -> b.addRecentEffects(effect(v)));
      long bytes = 0;
      for (SignalRecord sig : signals.recent(subject, limit)) {
        bytes += sig.payload().length + 64;
        if (b.getRecentSignalsCount() > 0 && bytes > PAGE_BYTES) {
          break;
        }
        b.addRecentSignals(signal(sig));
      }
      return b.build();
    });
  }

  /** The first effects whose results fit {@link #PAGE_BYTES} (at least one). */
  private static List<EffectView> withinBytes(List<EffectView> effects) {
    long bytes = 0;
    for (int i = 0; i < effects.size(); i++) {
      bytes += (effects.get(i).result() == null ? 0 : effects.get(i).result().length) + 256;
      if (i > 0 && bytes > PAGE_BYTES) {
        return effects.subList(0, i);
      }
    }
    return effects;
  }

  private static String scope(String subject) {
    return SCOPE_PREFIX + subject;
  }

  private Effect effect(String subject, String key) {
    return claims.view(scope(subject), key).map(DurabilityService::effect)
        .orElseThrow(() -> new IllegalStateException("claim " + subject + "/" + key + " vanished"));
  }

  static Effect effect(EffectView v) {
    Effect.Builder b = Effect.newBuilder().setSubject(v.scope().substring(SCOPE_PREFIX.length())).setKey(v.key()).setState(state(v.state()))
        .setTransitions(v.transitions()).setExpiresAtMs(v.expiresAtMillis()).setUpdatedAtMs(v.updatedAtMillis())
        .setCompletedAtMs(v.completedAtMillis());
    if (v.holder() != null) {
      b.setHolder(v.holder());
    }
    if (v.result() != null && v.state().equals("COMPLETED")) {
      b.setResult(ByteString.copyFrom(v.result()));
    }
    return b.build();
  }

  private static EffectState state(String stored) {
    return switch (stored) {
      case "HELD" -> EffectState.HELD;
      case "COMPLETED" -> EffectState.COMPLETED;
      case "RELEASED" -> EffectState.RELEASED;
      default -> EffectState.EFFECT_STATE_UNSPECIFIED;
    };
  }

  private static String stateName(EffectState state) {
    return switch (state) {
      case HELD -> "HELD";
      case COMPLETED -> "COMPLETED";
      case RELEASED -> "RELEASED";
      default -> throw new IllegalArgumentException("state must be HELD, COMPLETED or RELEASED, got " + state);
    };
  }

  static Signal signal(SignalRecord s) {
    return Signal.newBuilder().setStream(s.stream()).setPartition(s.partition()).setSequence(s.sequence())
        .setIntentId(s.intentId()).setPayload(ByteString.copyFrom(s.payload())).setEmittedAtMs(s.emittedAtMillis())
        .build();
  }

  static Gap gap(Signals.Gap g) {
    return Gap.newBuilder().setRequestedAfter(g.requestedAfter()).setFirstRetained(g.firstRetained()).build();
  }

  private static Cursor cursor(Cursors.CursorView c) {
    return Cursor.newBuilder().setConsumer(c.consumer()).setStream(c.stream()).setPartition(c.partition())
        .setPosition(c.position()).setHolder(c.holder() == null ? "" : c.holder()).setEpoch(c.epoch())
        .setLeaseExpiresAtMs(c.leaseExpiresAtMillis()).build();
  }

  private static ByteString bytes(byte[] b) {
    return b == null ? ByteString.EMPTY : ByteString.copyFrom(b);
  }

  @Override
  public void close() {
    followers.close();
  }
}
