package dev.conveyor.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QueueCliTest {
  @TempDir Path dir;

  private static String run(String... args) {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      assertThat(Main.run(args)).as("exit code of %s", String.join(" ", args)).isZero();
    } finally {
      System.setOut(original);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  @Test
  void topicsLagDeadLettersRedriveAndInspect() {
    String url = "sqlite:" + dir.resolve("q.db");
    TopicKey orders = TopicKey.of("shop.orders");
    TopicRegistry registry = TopicRegistry.builder()
        .register(orders, TopicConfig.defaults("shop-orders").withPartitions(2)).build();
    AtomicInteger handled = new AtomicInteger();
    try (Ledger ledger = Ledger.open(url); Streams streams = new Streams(ledger, registry)) {
      ledger.transact(tx -> streams.publisher().publish(tx, orders, "customer-1", "order-1#placed",
          "{\"order\":1}".getBytes(StandardCharsets.UTF_8)));
      var consumer = streams.consume(orders, ConsumerOptions.defaults("billing", "node-1"), d -> {
            handled.incrementAndGet();
            return Outcome.reject("card declined");
          });
      await().atMost(Duration.ofSeconds(30)).until(() -> !streams.deadLetters().list("shop-orders", 0, 5).isEmpty());
      consumer.close(Duration.ofSeconds(5));
    }

    assertThat(run("queue", "topics", "--ledger", url)).contains("shop-orders").contains("shop-orders.dlq");
    assertThat(run("queue", "lag", "--ledger", url, "--group", "billing")).contains("billing").contains("shop-orders");
    String dlq = run("queue", "dlq", "shop-orders", "--ledger", url);
    assertThat(dlq).contains("order-1#placed").contains("card declined").contains("billing");
    assertThat(run("queue", "dlq", "shop-orders", "--show", "1", "--ledger", url))
        .contains("{\"order\":1}").contains("customer-1");
    assertThat(run("queue", "dlq", "shop-orders", "--redrive", "1", "--ledger", url)).contains("re-driven to shop-orders");
    assertThat(run("queue", "dlq", "shop-orders", "--redrive", "1", "--ledger", url)).contains("already re-driven");
    assertThat(run("queue", "inspect", "shop-orders", "--ledger", url))
        .contains("order-1#placed").contains("order-1#placed#redrive-1");
    var mapper = new com.fasterxml.jackson.databind.ObjectMapper();
    try {
      var topics = mapper.readTree(run("queue", "topics", "--json", "--ledger", url));
      assertThat(topics.get("topics").findValuesAsText("topic")).contains("shop-orders", "shop-orders.dlq");
      var lag = mapper.readTree(run("queue", "lag", "--json", "--ledger", url, "--group", "billing"));
      assertThat(lag.get("groups").get(0).get("group").asText()).isEqualTo("billing");
      var inspected = mapper.readTree(run("queue", "inspect", "shop-orders", "--json", "--ledger", url));
      assertThat(inspected.get("messages").findValuesAsText("message_id")).contains("order-1#placed");
      assertThat(inspected.get("messages").findValuesAsText("payload")).contains("{\"order\":1}");
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      throw new AssertionError(e);
    }
  }
}
