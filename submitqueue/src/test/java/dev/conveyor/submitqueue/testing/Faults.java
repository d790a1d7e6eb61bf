package dev.conveyor.submitqueue.testing;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/** Stage decorators that inject the faults the acceptance scenarios need. */
public final class Faults {
  private Faults() {}

  /**
   * Every message of every stage is handled three times: the first two runs commit their effects as
   * if the ack had been lost, then the message comes back (the worst redelivery a stage can see).
   */
  public static StageDecorator redeliverTwice(AtomicReference<Ledger> ledger) {
    Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
    return (stage, handler) -> delivery -> {
      var m = delivery.message();
      int n = seen.computeIfAbsent(m.topic() + "#" + m.partition() + "#" + m.seq(), k -> new AtomicInteger())
          .incrementAndGet();
      Outcome outcome = handler.handle(delivery);
      if (n <= 2 && outcome instanceof Outcome.Ack ack) {
        if (ack.action() != null) {
          ledger.get().transact(tx -> {
            ack.action().run(tx);
            return null;
          });
        }
        return Outcome.postpone(Duration.ZERO);
      }
      return outcome;
    };
  }

  /** Messages of {@code stage} whose payload mentions {@code entity} are rejected: dead-lettered at once. */
  public static StageDecorator poison(String stage, String entity) {
    return (name, handler) -> !name.equals(stage) ? handler : delivery -> {
      if (new String(delivery.payload(), StandardCharsets.UTF_8).contains("\"" + entity + "\"")) {
        return Outcome.reject("injected failure in " + stage);
      }
      return handler.handle(delivery);
    };
  }

  /** Holds every message of the named stages until {@link Gate#open()}. */
  public static final class Gate implements StageDecorator {
    private final Set<String> stages;
    private final CountDownLatch open = new CountDownLatch(1);
    private final AtomicInteger waiting = new AtomicInteger();

    public Gate(String... stages) {
      this.stages = Set.of(stages);
    }

    @Override
    public MessageHandler decorate(String stage, MessageHandler handler) {
      if (!stages.contains(stage)) {
        return handler;
      }
      return delivery -> {
        waiting.incrementAndGet();
        if (!open.await(60, TimeUnit.SECONDS)) {
          return Outcome.nack("gate never opened");
        }
        return handler.handle(delivery);
      };
    }

    /** How many deliveries are held (or were, once open). */
    public int held() {
      return waiting.get();
    }

    public void open() {
      open.countDown();
    }
  }
}
