package dev.conveyor.messagequeue.wakeup;

import dev.conveyor.ledger.signal.LedgerSignals;

/**
 * Turns PostgreSQL NOTIFYs from any node into local wake-ups. It listens through the ledger's one LISTEN
 * connection ({@link LedgerSignals#notifications}), which reconnects after failures and says when something
 * may have been missed. Consumers poll anyway, so a missed notification only costs latency.
 */
public final class PgNotifyListener implements AutoCloseable {
  public static final String CHANNEL = "conveyor_mq";

  private final AutoCloseable subscription;

  public PgNotifyListener(LedgerSignals signals, Wakeups wakeups) {
    this(signals, CHANNEL, payload -> {
      if (payload == null) {
        wakeups.signal(); // one may have been missed
        return;
      }
      String heard = wakeups.untagged(payload);
      if (heard != null) { // null: this process's own, signalled here after its commit already
        signal(wakeups, heard);
      }
    });
  }

  /** Hands every payload NOTIFYed on {@code channel} (null when one may have been missed) to {@code sink}. */
  public PgNotifyListener(LedgerSignals signals, String channel, java.util.function.Consumer<String> sink) {
    this.subscription = signals.notifications(channel, sink);
  }

  /** Longest payload sent; PostgreSQL refuses more than 8,000 bytes, and a whole-topic wake-up is always correct. */
  static final int MAX_PAYLOAD = 4000;

  /**
   * A notification's payload: {@code topic#p1,p2,...} for the partitions a commit wrote, or just the topic
   * when the list would be long.
   */
  public static String payload(String wireTopic, java.util.Collection<Integer> partitions) {
    StringBuilder s = new StringBuilder(wireTopic).append('#');
    for (int p : partitions) {
      if (s.charAt(s.length() - 1) != '#') {
        s.append(',');
      }
      s.append(p);
    }
    return partitions.isEmpty() || s.length() > MAX_PAYLOAD ? wireTopic : s.toString();
  }

  /**
   * Turns a payload into wake-ups: the named partitions, the whole topic when none are named, everything
   * for an empty or unreadable payload (a wake-up too many costs a read; one too few costs latency).
   */
  static void signal(Wakeups wakeups, String payload) {
    if (payload == null || payload.isEmpty()) {
      wakeups.signal();
      return;
    }
    int hash = payload.lastIndexOf('#');
    if (hash < 0) {
      wakeups.signal(payload);
      return;
    }
    String topic = payload.substring(0, hash);
    String[] parts = payload.substring(hash + 1).split(",");
    int[] partitions = new int[parts.length];
    try {
      for (int i = 0; i < parts.length; i++) {
        partitions[i] = Integer.parseInt(parts[i]);
      }
    } catch (NumberFormatException e) {
      wakeups.signal(payload); // a topic whose own name holds '#'
      return;
    }
    for (int p : partitions) {
      wakeups.signal(topic, p);
    }
  }

  @Override
  public void close() {
    try {
      subscription.close();
    } catch (Exception e) {
      throw new IllegalStateException(e); // removing a sink from a list does not fail
    }
  }
}
