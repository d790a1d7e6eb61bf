package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.conveyor.api.submitqueue.CiBuild;
import dev.conveyor.api.submitqueue.ListPendingRequest;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.ReportCheckRequest;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.SetQueueStateRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.queue.RemoteAuth;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.notify.Webhook;
import dev.conveyor.submitqueue.notify.WebhookDelivery;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A queue's webhook, end to end: events happen while the receiver is down (nothing listens on its port),
 * then it comes up and receives every one, signed, in the order they happened.
 */
public abstract class WebhookContract extends LedgerTestBase {
  private static final String SECRET = "hook-s3cret";
  @TempDir Path tmp;

  record Received(String event, String delivery, String signature, String timestamp, byte[] body) {}

  /** CI that starts from the webhook alone: on build.wanted it reads the build id and commit and reports. */
  @Test
  void aCiStartedByTheWebhookReportsAndTheChangeLands() throws Exception {
    HttpServer ci = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    Webhook hook = new Webhook(URI.create("http://127.0.0.1:" + ci.getAddress().getPort() + "/ci"),
        RemoteAuth.Secret.ofEnv("HOOK_SECRET", SECRET));
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q.withRunner(SubmitQueueConfig.Runner.external(List.of("ci"))),
        queues -> queues.withWebhook("app", hook))) {
      List<String> reported = new CopyOnWriteArrayList<>();
      ci.createContext("/ci", exchange -> {
        byte[] body = exchange.getRequestBody().readAllBytes();
        String sent = exchange.getRequestHeaders().getFirst("X-Conveyor-Timestamp");
        boolean signed = ("sha256=" + WebhookDelivery.sign(SECRET, WebhookDelivery.signed(sent, body)))
            .equals(exchange.getRequestHeaders().getFirst("X-Conveyor-Signature-256"));
        if (signed && "build.wanted".equals(exchange.getRequestHeaders().getFirst("X-Conveyor-Event"))) {
          try {
            var event = dev.conveyor.api.ProtoJson.fromBytes(body, dev.conveyor.api.submitqueue.WebhookEvent
                .getDefaultInstance());
            sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(event.getBuildId()).setSha(event.getSha())
                .setCheck(event.getRequiredChecks(0)).setPassed(true).setUrl("https://ci.example/run/1").build());
            reported.add(event.getBuildId());
          } catch (dev.conveyor.api.ProtoJson.PayloadException e) {
            throw new java.io.IOException(e);
          }
        }
        exchange.sendResponseHeaders(signed ? 204 : 401, -1);
        exchange.close();
      });
      ci.start();
      String id = sq.land(changeUri("hooked", sq.repos.commit("hooked", "main", "hooked", files("h.txt", "h\n"))));
      assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
      assertThat(reported).hasSize(1);
    } finally {
      ci.stop(0);
    }
  }

  @Test
  void aReceiverThatWasDownGetsEveryEventAfterwardsSignedAndInOrder() throws Exception {
    int port;
    try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = probe.getLocalPort(); // free now; nothing listens on it until the receiver starts
    }
    Webhook hook = new Webhook(URI.create("http://127.0.0.1:" + port + "/hooks/conveyor"),
        RemoteAuth.Secret.ofEnv("HOOK_SECRET", SECRET));
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q.withRunner(SubmitQueueConfig.Runner.external(List.of("ci"))),
        queues -> queues.withWebhook("app", hook))) {
      String head = sq.repos.commit("feature", "main", "feature", files("feature.txt", "f\n"));
      String id = sq.land(changeUri("feature", head));
      CiBuild build = Awaitility.await().atMost(Duration.ofSeconds(60)).until(
          () -> sq.ci.listPending(ListPendingRequest.getDefaultInstance()).getBuildsList(), l -> l.size() == 1).get(0);
      sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(build.getBuildId()).setPassed(true).build());
      assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
      sq.control.setQueueState(SetQueueStateRequest.newBuilder().setQueue("app").setState(QueueState.QUEUE_PAUSED)
          .setReason("incident").setChangedBy("ana").build());
      String cancelled = sq.land(changeUri("other", sq.repos.commit("other", "main", "other", files("o.txt", "o\n"))));
      sq.gateway.cancel(dev.conveyor.api.submitqueue.CancelRequest.newBuilder().setRequestId(cancelled).build());
      assertThat(sq.awaitTerminal(cancelled).getState()).isEqualTo(State.CANCELLED);

      List<Received> received = new CopyOnWriteArrayList<>();
      HttpServer receiver = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 0);
      receiver.createContext("/hooks/conveyor", exchange -> {
        byte[] body = exchange.getRequestBody().readAllBytes();
        received.add(new Received(exchange.getRequestHeaders().getFirst("X-Conveyor-Event"),
            exchange.getRequestHeaders().getFirst("X-Conveyor-Delivery"),
            exchange.getRequestHeaders().getFirst("X-Conveyor-Signature-256"),
            exchange.getRequestHeaders().getFirst("X-Conveyor-Timestamp"), body));
        exchange.sendResponseHeaders(204, -1);
        exchange.close();
      });
      receiver.start();
      try {
        // the ledger's clock is the test's: move it past each redelivery backoff of the failed attempts
        Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(100)).until(() -> {
          clock.advance(Duration.ofSeconds(2));
          return received.size() >= 4;
        });
        assertThat(received).extracting(Received::event).containsExactly("build.wanted", "request.landed",
            "queue.paused", "request.cancelled");
        for (Received r : received) {
          assertThat(r.signature()).isEqualTo("sha256=" + WebhookDelivery.sign(SECRET,
              WebhookDelivery.signed(r.timestamp(), r.body())));
          assertThat(Long.parseLong(r.timestamp())).isCloseTo(System.currentTimeMillis() / 1000,
              org.assertj.core.data.Offset.offset(120L));
          assertThat(new String(r.body(), java.nio.charset.StandardCharsets.UTF_8)).contains("\"queue\":\"app\"",
              "\"id\":\"" + r.delivery() + "\"");
        }
        String wanted = new String(received.get(0).body(), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(wanted).contains("\"build_id\":\"" + build.getBuildId() + "\"", "\"ref\":\"" + build.getRef() + "\"",
            "\"sha\":\"" + build.getSha() + "\"", "\"required_checks\":[\"ci\"]");
        assertThat(new String(received.get(1).body(), java.nio.charset.StandardCharsets.UTF_8))
            .contains("\"request_id\":\"" + id + "\"");
        Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
            .until(() -> received.size() == 4); // each event once
      } finally {
        receiver.stop(0);
      }
    }
  }
}
