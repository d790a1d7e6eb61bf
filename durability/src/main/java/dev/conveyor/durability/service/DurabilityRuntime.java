package dev.conveyor.durability.service;

import dev.conveyor.durability.cursors.Cursors;
import dev.conveyor.durability.signals.Signals;
import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.wakeup.PgNotifyListener;
import dev.conveyor.durability.signals.SignalWakeups;

/**
 * One node's Durability service with what it needs: its own wake-ups and, on PostgreSQL, a LISTEN
 * connection that turns other nodes' signal commits into wake-ups here, so a follower on any node hears of
 * a signal emitted on any other within milliseconds.
 */
public final class DurabilityRuntime implements AutoCloseable {
  public static final int DEFAULT_MAX_FOLLOWERS = 256;

  private final DurabilityService service;
  private final PgNotifyListener listener;

  private DurabilityRuntime(DurabilityService service, PgNotifyListener listener) {
    this.service = service;
    this.listener = listener;
  }

  public static DurabilityRuntime start(Ledger ledger, int maxFollowers) {
    return start(ledger, maxFollowers, java.time.Duration.ofSeconds(1));
  }

  /** With the followers' polling fallback {@code poll} (tests make it long to see the wake-ups do the work). */
  public static DurabilityRuntime start(Ledger ledger, int maxFollowers,
      java.time.Duration poll) {
    SignalWakeups wakeups = new SignalWakeups();
    PgNotifyListener listener = ledger.dialect() == Dialect.POSTGRESQL
        ? new PgNotifyListener(ledger.signals(), SignalWakeups.CHANNEL, payload -> {
          if (payload == null) {
            wakeups.signalEverything();
          } else {
            wakeups.signal(payload);
          }
        }) : null;
    DurabilityService service = new DurabilityService(new Signals(ledger, wakeups), new Cursors(ledger),
        new EffectClaims(ledger), maxFollowers, poll);
    return new DurabilityRuntime(service, listener);
  }

  public DurabilityService service() {
    return service;
  }

  @Override
  public void close() {
    service.close();
    if (listener != null) {
      listener.close();
    }
  }
}
