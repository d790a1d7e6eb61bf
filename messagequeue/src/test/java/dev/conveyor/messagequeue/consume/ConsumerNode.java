package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.StreamsTestBase;
import dev.conveyor.messagequeue.stream.Streams;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.locks.LockSupport;

/**
 * A consumer-group member used by the rebalance test, in-process or as a child JVM. Each delivery
 * is recorded first (so redeliveries show), then the message is processed idempotently in the
 * ack's transaction.
 */
public final class ConsumerNode {
  private ConsumerNode() {}

  public static Consumer start(Streams streams, String member, Duration simulatedWork) {
    ConsumerOptions options = ConsumerOptions.defaults("rebalance", member).withParallelism(2).withBatchSize(1)
        .withLeaseTtl(Duration.ofSeconds(2));
    return streams.consume(StreamsTestBase.ORDERS, options, d -> {
      String id = d.message().messageId();
      streams.ledger().transact(tx -> tx.update("INSERT INTO test_deliveries (message_id, member) VALUES (?, ?)",
          id, member));
      LockSupport.parkNanos(simulatedWork.toNanos()); // stands in for real work taking this long
      return Outcome.ack(tx -> tx.update("INSERT INTO test_processed (message_id, member) VALUES (?, ?)"
          + " ON CONFLICT DO NOTHING", id, member));
    });
  }

  public static void main(String[] args) throws Exception {
    Ledger ledger = Ledger.open(args[0]);
    Streams streams = new Streams(ledger, StreamsTestBase.registry());
    start(streams, args[1], Duration.ofMillis(Long.parseLong(args[2])));
    System.out.println("STARTED");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
