package dev.conveyor.submitqueue.speculate;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.BatchSignal;
import dev.conveyor.messagequeue.consume.Delivery;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.StreamMessage;
import dev.conveyor.submitqueue.pipeline.StageContext;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Any event that may change what to build or merge (a new batch, a build result, an outcome) re-plans the
 * queue. A pass reads every active batch of the queue, so it covers every event committed before it
 * began: an event whose message was already in the partition when a committed pass of its queue started
 * is acknowledged without a pass of its own. A burst of a hundred lands then costs a few passes over the
 * queue instead of a hundred, each over up to a hundred batches.
 */
public final class SpeculateStage implements MessageHandler {
  /** Passes run and events acknowledged because a committed pass had already covered them. */
  public record Counts(long passes, long covered) {}

  private final StageContext ctx;
  /** Per partition and queue: the last sequence a committed pass covered (this process's view; safe to lose). */
  private final ConcurrentHashMap<String, Long> coveredThrough = new ConcurrentHashMap<>();
  private final AtomicLong passes = new AtomicLong();
  private final AtomicLong covered = new AtomicLong();

  public SpeculateStage(StageContext ctx) {
    this.ctx = ctx;
  }

  @Override
  public Outcome handle(Delivery delivery) {
    BatchSignal s;
    try {
      s = delivery.payloadAs(BatchSignal.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject(e.getMessage());
    }
    StreamMessage m = delivery.message();
    String mark = m.topic() + "#" + m.partition() + "#" + s.getQueue();
    Long through = coveredThrough.get(mark);
    // a batch-wait wake-up may arrive while a pass that began before it was due still runs; that pass
    // saw the batch filling, so the wake-up always gets a pass of its own
    if (through != null && m.seq() <= through && !s.getCause().equals("batch-wait")) {
      covered.incrementAndGet();
      return Outcome.ack();
    }
    return Outcome.ack(tx -> {
      // read before the batches: every message up to here committed with its state change, which the
      // pass's later reads see
      long latest = tx.queryLong("SELECT next_seq FROM mq_partitions WHERE topic = ? AND partition_no = ?",
          m.topic(), m.partition()) - 1;
      ctx.planner().pass(tx, ctx.queue(s.getQueue()));
      tx.afterCommit(() -> {
        coveredThrough.merge(mark, latest, Math::max);
        passes.incrementAndGet();
      });
    });
  }

  public Counts counts() {
    return new Counts(passes.get(), covered.get());
  }
}
