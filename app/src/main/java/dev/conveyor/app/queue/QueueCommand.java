package dev.conveyor.app.queue;

import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.cli.Table;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.admin.QueueAdmin;
import dev.conveyor.messagequeue.stream.StreamMessage;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "queue", mixinStandardHelpOptions = true,
    description = {"Operate a merge queue (pause, drain, resume, state), and look inside the ledger's message"
        + " streams (topics, consumer lag, dead letters, messages)."},
    subcommands = {dev.conveyor.app.mergequeue.QueueStateCommands.Pause.class,
        dev.conveyor.app.mergequeue.QueueStateCommands.Drain.class,
        dev.conveyor.app.mergequeue.QueueStateCommands.Resume.class,
        dev.conveyor.app.mergequeue.QueueStateCommands.Show.class, QueueCommand.TopicsCmd.class,
        QueueCommand.LagCmd.class, DlqCommand.class, QueueCommand.InspectCmd.class, WebhooksCommand.class})
public final class QueueCommand implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static String preview(byte[] payload, int max) {
    String text = new String(payload, StandardCharsets.UTF_8);
    boolean printable = text.chars().allMatch(c -> c >= 0x20 || c == '\n' || c == '\t') && !text.contains("\uFFFD");
    if (!printable) {
      return "<" + payload.length + " binary bytes>";
    }
    String flat = text.replace('\n', ' ');
    return flat.length() <= max ? flat : flat.substring(0, max - 1) + "…";
  }

  static String time(Instant t) {
    return t == null ? "-" : t.toString();
  }

  @Command(name = "topics", mixinStandardHelpOptions = true, description = "Topics with stored messages.")
  static final class TopicsCmd implements Callable<Integer> {
    @Mixin LedgerOption ledgerOption;

    @Option(names = "--json", description = "JSON: {\"topics\": [{\"topic\", \"key\", \"partitions\", \"published\","
        + " \"retained\", \"scheduled\"}]}.")
    boolean json;

    @Override
    public Integer call() {
      try (Ledger ledger = ledgerOption.openExisting()) {
        Table t = new Table("TOPIC", "KEY", "PARTITIONS", "PUBLISHED", "RETAINED", "SCHEDULED");
        var registry = Topics.registry();
        if (json) {
          var out = dev.conveyor.app.cli.JsonRows.object();
          var list = out.putArray("topics");
          for (var v : new QueueAdmin(ledger).topics()) {
            var o = list.addObject();
            o.put("topic", v.topic());
            o.put("key", registry.keyOfWire(v.topic()).map(Object::toString).orElse(null));
            o.put("partitions", v.partitions());
            o.put("published", v.published());
            o.put("retained", v.retained());
            o.put("scheduled", v.scheduled());
          }
          dev.conveyor.app.cli.JsonRows.print(out);
          return 0;
        }
        for (var v : new QueueAdmin(ledger).topics()) {
          String key = registry.keyOfWire(v.topic()).map(Object::toString).orElse(v.topic().endsWith(".dlq") ? "(dlq)" : "-");
          t.row(v.topic(), key, v.partitions(), v.published(), v.retained(), v.scheduled());
        }
        t.printOr(System.out, "no messages have been published to this ledger yet");
      }
      return 0;
    }
  }

  @Command(name = "lag", mixinStandardHelpOptions = true,
      description = "Per consumer group and partition: committed position, latest message, lag and holder.")
  static final class LagCmd implements Callable<Integer> {
    @Mixin LedgerOption ledgerOption;

    @Option(names = "--group", description = "Only this consumer group.")
    String group;

    @Option(names = "--json", description = "JSON: {\"groups\": [{\"group\", \"topic\", \"partition\", \"committed\","
        + " \"latest\", \"lag\", \"holder\", \"lease_expires_at\", \"head_attempts\", \"last_error\", \"takeovers\"}]}.")
    boolean json;

    @Override
    public Integer call() {
      try (Ledger ledger = ledgerOption.openExisting()) {
        List<QueueAdmin.LagView> rows = new QueueAdmin(ledger).lag(group);
        if (json) {
          var out = dev.conveyor.app.cli.JsonRows.object();
          var list = out.putArray("groups");
          for (var r : rows) {
            var o = list.addObject();
            o.put("group", r.group());
            o.put("topic", r.topic());
            o.put("partition", r.partition());
            o.put("committed", r.committed());
            o.put("latest", r.latest());
            o.put("lag", r.lag());
            o.put("holder", r.owner());
            dev.conveyor.app.cli.JsonRows.put(o, "lease_expires_at", r.leaseExpires());
            o.put("head_attempts", r.headAttempts());
            o.put("last_error", r.lastError());
            o.put("takeovers", r.takeovers());
          }
          dev.conveyor.app.cli.JsonRows.print(out);
          return 0;
        }
        Table t = new Table("GROUP", "TOPIC", "PART", "COMMITTED", "LATEST", "LAG", "HOLDER", "ATTEMPTS", "LAST ERROR");
        for (var r : rows) {
          t.row(r.group(), r.topic(), r.partition(), r.committed(), r.latest(), r.lag(), r.owner(),
              r.headAttempts(), r.lastError());
        }
        t.printOr(System.out, group == null ? "no consumer groups yet" : "no consumer group named '" + group + "'");
      }
      return 0;
    }
  }

  @Command(name = "inspect", mixinStandardHelpOptions = true, description = "The newest messages of a topic.")
  static final class InspectCmd implements Callable<Integer> {
    @Mixin LedgerOption ledgerOption;

    @Parameters(paramLabel = "TOPIC", description = "Wire topic name (see 'queue topics').")
    String topic;

    @Option(names = "--partition", description = "Only this partition (default: every partition).")
    Integer partition;

    @Option(names = "--limit", defaultValue = "10", description = "Messages per partition (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "JSON: {\"topic\", \"messages\": [{\"partition\", \"seq\", \"message_id\","
        + " \"partition_key\", \"published_at\", \"payload\" (UTF-8 text, or null and \"payload_base64\" for other bytes)}]}.")
    boolean json;

    @Override
    public Integer call() {
      try (Ledger ledger = ledgerOption.openExisting()) {
        QueueAdmin admin = new QueueAdmin(ledger);
        List<Integer> partitions = partition == null ? admin.partitionsOf(topic) : List.of(partition);
        if (partitions.isEmpty()) {
          throw new dev.conveyor.app.cli.ErrorReporter.UserError("topic '" + topic + "' has no messages",
              "'conveyor queue topics' lists the topics of this ledger");
        }
        if (json) {
          var out = dev.conveyor.app.cli.JsonRows.object();
          out.put("topic", topic);
          var list = out.putArray("messages");
          for (int p : partitions) {
            for (StreamMessage m : admin.recent(topic, p, limit)) {
              var o = list.addObject();
              o.put("partition", m.partition());
              o.put("seq", m.seq());
              o.put("message_id", m.messageId());
              o.put("partition_key", m.partitionKey());
              dev.conveyor.app.cli.JsonRows.put(o, "published_at", m.publishedAt());
              try { // text when it is text; otherwise its bytes, never a silently mangled string
                o.put("payload", java.nio.charset.StandardCharsets.UTF_8.newDecoder()
                    .decode(java.nio.ByteBuffer.wrap(m.payload())).toString());
              } catch (java.nio.charset.CharacterCodingException e) {
                o.putNull("payload");
                o.put("payload_base64", java.util.Base64.getEncoder().encodeToString(m.payload()));
              }
            }
          }
          dev.conveyor.app.cli.JsonRows.print(out);
          return 0;
        }
        Table t = new Table("PART", "SEQ", "MESSAGE ID", "KEY", "PUBLISHED", "PAYLOAD");
        for (int p : partitions) {
          for (StreamMessage m : admin.recent(topic, p, limit)) {
            t.row(m.partition(), m.seq(), m.messageId(), m.partitionKey(), time(m.publishedAt()), preview(m.payload(), 80));
          }
        }
        t.print(System.out);
      }
      return 0;
    }
  }
}
