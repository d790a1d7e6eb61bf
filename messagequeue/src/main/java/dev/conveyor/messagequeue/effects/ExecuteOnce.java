package dev.conveyor.messagequeue.effects;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Runs an effect at most once per completed claim: claim it, renew the claim on its own thread
 * while the effect runs, cancel the effect if ownership is lost, and complete with its result.
 *
 * <p>At-least-once window: if the holder's process dies after the effect took place but before
 * {@code complete} committed, the claim lapses and a takeover runs the effect again. Effects
 * should therefore be idempotent at their target too (e.g. a compare-and-swap push).
 */
public final class ExecuteOnce implements AutoCloseable {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(ExecuteOnce.class);
  private final EffectClaims claims;
  private final Clock clock;
  private final ExecutorService effects = Executors.newCachedThreadPool(r -> daemon(r, "effect"));
  private final ScheduledExecutorService renewals = Executors.newScheduledThreadPool(1, r -> daemon(r, "effect-renew"));

  /**
   * {@code clock} should be the ledger's ({@code Ledger.clock()}): a held claim's expiry is ledger time.
   * It only sizes the wait before looking again; the claim itself is decided in the ledger.
   */
  public ExecuteOnce(EffectClaims claims, Clock clock) {
    this.claims = claims;
    this.clock = clock;
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  /** Runs {@code effect} unless it already completed; answers the (stored) result. */
  public byte[] run(String scope, String key, String holder, Duration lease, Callable<byte[]> effect)
      throws Exception {
    while (true) {
      ClaimResult claim = claims.claim(scope, key, holder, lease);
      if (claim instanceof ClaimResult.AlreadyCompleted done) {
        return done.result();
      }
      if (claim instanceof ClaimResult.Held held) {
        long waitMs = Math.max(10, Math.min(200, held.until().toEpochMilli() - clock.millis()));
        Thread.sleep(waitMs); // another holder is running it; look again shortly
        continue;
      }
      return runHeld(scope, key, ((ClaimResult.Acquired) claim).token(), lease, effect);
    }
  }

  private byte[] runHeld(String scope, String key, String token, Duration lease, Callable<byte[]> effect)
      throws Exception {
    Future<byte[]> running = effects.submit(effect);
    AtomicBoolean lost = new AtomicBoolean();
    long every = Math.max(10, lease.toMillis() / 3);
    // A scheduled task that throws is never run again, and the claim would lapse under a live effect:
    // whatever a renewal meets (a ledger outage past its retries, an Error) is logged and tried next tick.
    ScheduledFuture<?> renewer = renewals.scheduleAtFixedRate(() -> {
      try {
        if (!claims.renew(scope, key, token, lease)) {
          lost.set(true);
          running.cancel(true);
        }
      } catch (Throwable t) {
        log.warn("effect {}/{}: renewing its claim failed ({}); trying again at the next tick", scope, key,
            t.toString());
      }
    }, every, every, TimeUnit.MILLISECONDS);
    byte[] result;
    try {
      result = running.get();
    } catch (CancellationException e) {
      throw new ClaimLostException(scope, key, "the claim lapsed while the effect ran; it was cancelled");
    } catch (ExecutionException e) {
      renewer.cancel(false);
      releaseQuietly(scope, key, token);
      throw e.getCause() instanceof Exception ex ? ex : e;
    } finally {
      renewer.cancel(false);
    }
    if (lost.get()) {
      throw new ClaimLostException(scope, key, "the claim lapsed while the effect ran");
    }
    claims.complete(scope, key, token, result);
    return result;
  }

  private void releaseQuietly(String scope, String key, String token) {
    try {
      claims.release(scope, key, token);
    } catch (RuntimeException ignored) {
      // already taken over: the new holder decides
    }
  }

  @Override
  public void close() {
    effects.shutdownNow();
    renewals.shutdownNow();
  }
}
