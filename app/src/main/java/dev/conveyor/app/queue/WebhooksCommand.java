package dev.conveyor.app.queue;

import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.cli.Table;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.admin.QueueAdmin;
import dev.conveyor.messagequeue.consume.DeadLetters;
import dev.conveyor.messagequeue.stream.Streams;
import java.time.Instant;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * Merge-queue webhooks as an operator sees them: events not yet delivered (and why: the receiver's last
 * answer) and events the receiver refused until they were dead-lettered. Reads the ledger directly.
 */
@Command(name = "webhooks", mixinStandardHelpOptions = true,
    description = "Webhook deliveries: events waiting (with the receiver's last answer) and dead-lettered events"
        + " (re-send one with 'conveyor queue dlq submitqueue.webhook --redrive SEQ').")
public final class WebhooksCommand implements Callable<Integer> {
  static final String TOPIC = "submitqueue.webhook";
  static final String GROUP = "submitqueue-webhook";

  @Mixin LedgerOption ledgerOption;

  @Option(names = "--limit", defaultValue = "50", description = "Dead letters shown at most (default: ${DEFAULT-VALUE}).")
  int limit;

  @Override
  public Integer call() {
    try (Ledger ledger = ledgerOption.openExisting(); Streams streams = new Streams(ledger, Topics.registry())) {
      Table waiting = new Table("PART", "DELIVERED UP TO", "LATEST", "WAITING", "ATTEMPTS", "LAST ANSWER");
      for (var r : new QueueAdmin(ledger).lag(GROUP)) {
        if (r.topic().equals(TOPIC) && r.lag() > 0) {
          waiting.row(r.partition(), r.committed(), r.latest(), r.lag(), r.headAttempts(), r.lastError());
        }
      }
      System.out.println("waiting to be delivered:");
      waiting.printOr(System.out, "  nothing: every event was delivered (or no queue has a webhook)");
      Table dead = new Table("SEQ", "MESSAGE ID", "ATTEMPTS", "DEAD AT", "LAST ANSWER");
      for (var e : streams.deadLetters().list(TOPIC, 0, limit)) {
        var d = e.letter();
        dead.row(e.seq(), d.getMessageId(), d.getAttempts(), Instant.ofEpochMilli(d.getDeadAtMs()), d.getLastError());
      }
      System.out.println("refused by the receiver (dead letters):");
      dead.printOr(System.out, "  none");
    }
    return 0;
  }
}
