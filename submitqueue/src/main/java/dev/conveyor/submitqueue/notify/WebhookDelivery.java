package dev.conveyor.submitqueue.notify;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.WebhookEvent;
import dev.conveyor.messagequeue.consume.Delivery;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.IOException;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Delivers one queue event to the queue's webhook: a signed POST of its JSON. 2xx is delivered. A
 * receiver that is down, slow or failing (no connection, timeout, 408, 429, 5xx) holds the queue's later
 * events back and is tried again with growing backoff for as long as it takes, never dead-lettered
 * ({@code Unavailable}): nothing is lost and order holds. Any other answer (a 3xx or 4xx: the receiver
 * refuses this event) counts as a failed attempt; after the topic's attempts the event goes to
 * {@code submitqueue.webhook.dlq} ({@code conveyor queue dlq submitqueue.webhook}) and the next goes out.
 */
public final class WebhookDelivery implements MessageHandler {
  private static final Logger log = LoggerFactory.getLogger(WebhookDelivery.class);
  private static final Duration TIMEOUT = Duration.ofSeconds(10);

  private final SubmitQueues queues;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5))
      .followRedirects(HttpClient.Redirect.NEVER).build();

  public WebhookDelivery(SubmitQueues queues) {
    this.queues = queues;
  }

  @Override
  public Outcome handle(Delivery delivery) throws Exception {
    WebhookEvent event;
    try {
      event = ProtoJson.fromBytes(delivery.payload(), WebhookEvent.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject("not a webhook event: " + e.getMessage());
    }
    var hook = queues.webhook(event.getQueue());
    if (hook.isEmpty()) {
      log.info("queue {} has no webhook any more; event {} dropped", event.getQueue(), event.getId());
      return Outcome.ack();
    }
    Webhook webhook = hook.get();
    byte[] body = ProtoJson.toJson(event).getBytes(StandardCharsets.UTF_8);
    String secret;
    try {
      secret = webhook.secret().read();
    } catch (IOException e) {
      return Outcome.unavailable("webhook secret of queue " + event.getQueue() + ": " + e.getMessage());
    }
    String sent = String.valueOf(System.currentTimeMillis() / 1000);
    HttpRequest request = HttpRequest.newBuilder(webhook.url()).timeout(TIMEOUT)
        .header("Content-Type", "application/json").header("User-Agent", "conveyor-webhook")
        .header("X-Conveyor-Event", event.getEvent()).header("X-Conveyor-Delivery", event.getId())
        .header("X-Conveyor-Timestamp", sent)
        .header("X-Conveyor-Signature-256", "sha256=" + sign(secret, signed(sent, body)))
        .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build();
    HttpResponse<Void> response;
    try {
      response = http.send(request, HttpResponse.BodyHandlers.discarding());
    } catch (IOException e) {
      return Outcome.unavailable("webhook " + webhook.shown() + " unreachable: " + e);
    }
    int code = response.statusCode();
    if (code >= 200 && code < 300) {
      return Outcome.ack();
    }
    if (code == 408 || code == 429 || code >= 500) {
      return Outcome.unavailable("webhook " + webhook.shown() + " answered " + code);
    }
    return Outcome.nack("webhook " + webhook.shown() + " refused event " + event.getEvent() + " with " + code);
  }

  /**
   * What is signed: the send time (seconds, {@code X-Conveyor-Timestamp}), a dot, then the body — so a receiver
   * that checks the time is recent cannot be fed an old delivery again.
   */
  public static byte[] signed(String timestamp, byte[] body) {
    byte[] prefix = (timestamp + ".").getBytes(StandardCharsets.UTF_8);
    byte[] all = new byte[prefix.length + body.length];
    System.arraycopy(prefix, 0, all, 0, prefix.length);
    System.arraycopy(body, 0, all, prefix.length, body.length);
    return all;
  }

  /** HMAC-SHA256 of {@code body} with {@code secret}, as hex: what a receiver recomputes to trust a delivery. */
  public static String sign(String secret, byte[] body) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(body));
    } catch (GeneralSecurityException e) {
      throw new IllegalStateException("HmacSHA256 is part of every JDK", e);
    }
  }
}
