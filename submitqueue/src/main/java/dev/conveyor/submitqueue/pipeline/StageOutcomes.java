package dev.conveyor.submitqueue.pipeline;

import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import java.util.EnumMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * What each stage did with the messages it received, counted since start: every stage has the same
 * outcomes, so a stage that skips everything, or retries in a loop, stands out on a dashboard. Counted
 * after commit: a rolled-back ack counts nothing but its receipt.
 */
public final class StageOutcomes {
  /** One stage's outcome for one message. */
  public enum Kind {
    /** Delivered to the stage (every attempt). */
    RECEIVED,
    /** Acknowledged after moving its request or batch on. */
    ADVANCED,
    /** Acknowledged without effect: a duplicate, or its request or batch had already moved on. */
    SKIPPED,
    /** To be delivered again: it failed, or what it needs is unavailable or not yet ready. */
    RETRIED,
    /** Dead-lettered: it can never succeed (its reconciler ends what it concerned). */
    DEAD_LETTERED
  }

  /** Where a stage reports whether an acknowledged message advanced anything. */
  @FunctionalInterface
  public interface Sink {
    Sink NONE = kind -> {};

    void count(Kind kind);
  }

  private final ConcurrentHashMap<String, EnumMap<Kind, LongAdder>> counts = new ConcurrentHashMap<>();

  /** Wraps {@code handler} so its outcomes count under {@code stage}. */
  MessageHandler counting(String stage, MessageHandler handler) {
    EnumMap<Kind, LongAdder> mine = counts.computeIfAbsent(stage, s -> {
      EnumMap<Kind, LongAdder> m = new EnumMap<>(Kind.class);
      for (Kind k : Kind.values()) {
        m.put(k, new LongAdder());
      }
      return m;
    });
    Sink sink = kind -> mine.get(kind).increment();
    return delivery -> {
      sink.count(Kind.RECEIVED);
      Outcome outcome = handler instanceof Stage<?> s ? s.handle(delivery, sink) : handler.handle(delivery);
      if (outcome instanceof Outcome.Ack ack && !(handler instanceof Stage<?>)) {
        if (ack.action() == null) { // a plain handler acknowledging with nothing to do: a duplicate or stale
          sink.count(Kind.SKIPPED);
          return outcome;
        }
        return Outcome.ack(tx -> {
          if (ack.action() != null) {
            ack.action().run(tx);
          }
          tx.afterCommit(() -> sink.count(Kind.ADVANCED));
        });
      }
      if (outcome instanceof Outcome.Nack || outcome instanceof Outcome.Unavailable
          || outcome instanceof Outcome.Postpone) {
        sink.count(Kind.RETRIED);
      } else if (outcome instanceof Outcome.Reject) {
        sink.count(Kind.DEAD_LETTERED);
      }
      return outcome;
    };
  }

  /** Counts by stage, then outcome. */
  public Map<String, Map<Kind, Long>> snapshot() {
    Map<String, Map<Kind, Long>> out = new TreeMap<>();
    counts.forEach((stage, m) -> {
      Map<Kind, Long> c = new EnumMap<>(Kind.class);
      m.forEach((k, v) -> c.put(k, v.sum()));
      out.put(stage, c);
    });
    return out;
  }

  /** One count (0 for a stage not started). */
  public long get(String stage, Kind kind) {
    EnumMap<Kind, LongAdder> m = counts.get(stage);
    return m == null ? 0 : m.get(kind).sum();
  }
}
