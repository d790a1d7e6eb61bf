package dev.conveyor.app.queue;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.cli.Table;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.DeadLetters;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "dlq", mixinStandardHelpOptions = true,
    description = "Dead letters of a topic: list them, show one, or re-drive one to its original topic.")
public final class DlqCommand implements Callable<Integer> {
  @Mixin LedgerOption ledgerOption;

  @Parameters(index = "0", paramLabel = "TOPIC", description = "The topic (or its .dlq topic).")
  String topic;

  @Option(names = "--show", paramLabel = "SEQ", description = "Show one dead letter in full.")
  Long show;

  @Option(names = "--redrive", paramLabel = "SEQ", description = "Publish this dead letter's payload to its topic again.")
  Long redrive;

  @Option(names = "--limit", defaultValue = "50", description = "At most this many (default: ${DEFAULT-VALUE}).")
  int limit;

  @Override
  public Integer call() {
    if (show != null && redrive != null) {
      throw new IllegalArgumentException("use either --show or --redrive, not both");
    }
    try (Ledger ledger = ledgerOption.openExisting(); Streams streams = new Streams(ledger, registryFor(ledger))) {
      DeadLetters dlq = streams.deadLetters();
      if (show != null) {
        var e = dlq.show(topic, show).orElseThrow(() -> new UserError("no dead letter " + show + " in "
            + DeadLetters.dlqOf(topic), "'conveyor queue dlq " + topic + "' lists them"));
        var d = e.letter();
        new Table("FIELD", "VALUE").row("dead letter", DeadLetters.dlqOf(topic) + "#" + e.seq())
            .row("original", d.getOriginalTopic() + "[" + d.getPartition() + "]#" + d.getSeq())
            .row("message id", d.getMessageId()).row("partition key", d.getPartitionKey())
            .row("group", d.getGroup()).row("attempts", d.getAttempts()).row("last error", d.getLastError())
            .row("dead at", Instant.ofEpochMilli(d.getDeadAtMs()))
            .row("payload", QueueCommand.preview(d.getPayload().toByteArray(), 2000)).print(System.out);
        return 0;
      }
      if (redrive != null) {
        var r = dlq.redrive(topic, redrive);
        System.out.println(r.duplicate()
            ? "dead letter " + redrive + " was already re-driven (" + r.topic() + "[" + r.partition() + "]#" + r.seq() + ")"
            : "re-driven to " + r.topic() + "[" + r.partition() + "] as #" + r.seq());
        return 0;
      }
      Table t = new Table("SEQ", "ORIGINAL", "MESSAGE ID", "GROUP", "ATTEMPTS", "DEAD AT", "LAST ERROR");
      for (var e : dlq.list(topic, 0, limit)) {
        var d = e.letter();
        t.row(e.seq(), d.getOriginalTopic() + "[" + d.getPartition() + "]#" + d.getSeq(), d.getMessageId(),
            d.getGroup(), d.getAttempts(), Instant.ofEpochMilli(d.getDeadAtMs()), d.getLastError());
      }
      t.printOr(System.out, "no dead letters in " + DeadLetters.dlqOf(topic));
    }
    return 0;
  }

  /**
   * The built-in topics, plus the topic named here if this build does not know it, sized from the
   * partitions its consumer groups use, so dead letters of any topic can be re-driven.
   */
  private TopicRegistry registryFor(Ledger ledger) {
    TopicRegistry known = Topics.registry();
    String wire = topic.endsWith(".dlq") ? topic.substring(0, topic.length() - 4) : topic;
    if (known.keyOfWire(wire).isPresent()) {
      return known;
    }
    long partitions = ledger.transact(tx -> tx.queryLong("SELECT COUNT(DISTINCT partition_no) FROM mq_group_partitions"
        + " WHERE topic = ?", wire));
    TopicRegistry.Builder b = TopicRegistry.builder();
    known.all().forEach(b::register);
    b.register(TopicKey.of("adhoc.redrive"), TopicConfig.defaults(wire)
        .withPartitions((int) Math.max(1, partitions)).withRetention(Duration.ofDays(7)));
    return b.build();
  }
}
