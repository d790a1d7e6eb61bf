package dev.conveyor.app.web;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.conveyor.app.audit.AuditLog;
import dev.conveyor.app.audit.AuditRetention;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.ledger.maintenance.RetentionTask;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.LocalOidcIssuer;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The page's actions over HTTP against a real node (OIDC tokens from a local issuer, a loopback bind where reading
 * needs no login but acting does): who may do what, what is refused and why, and what the audit log records.
 */
class PageActionsTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir Path dir;
  private LocalOidcIssuer issuer;
  private GitRepos repos;
  private ControlPlane plane;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    issuer = new LocalOidcIssuer();
    repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Path queues = data.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\nqueue.app.build-command = true\n");
    plane = ControlPlane.start(new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.OIDC, issuer.issuer(), "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30),
        SubmitQueues.load(queues), 1, 0));
  }

  @AfterEach
  void stop() {
    if (plane != null) {
      plane.close();
    }
    issuer.close();
  }

  private String token(String subject, String... roles) {
    return issuer.mint(issuer.issuer(), "conveyor", Instant.now().plusSeconds(300), List.of(roles), subject);
  }

  private HttpResponse<String> send(String method, String path, String bearer, Map<String, String> headers,
      String body) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + plane.httpPort() + path));
    if (bearer != null) {
      req.header("Authorization", "Bearer " + bearer);
    }
    headers.forEach(req::header);
    req.method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString());
  }

  private JsonNode session(String bearer) throws Exception {
    HttpResponse<String> r = send("GET", "/api/session", bearer, Map.of(), null);
    assertThat(r.statusCode()).isEqualTo(200);
    return JSON.readTree(r.body());
  }

  private HttpResponse<String> act(String action, String bearer, String body) throws Exception {
    String csrf = session(bearer).path("csrf").asText();
    return send("POST", "/api/actions/" + action, bearer, Map.of("Content-Type", "application/json",
        PageActions.CSRF_HEADER, csrf, "Origin", "http://127.0.0.1:" + plane.httpPort(), "Sec-Fetch-Site",
        "same-origin"), body);
  }

  private List<AuditLog.Entry> audit() {
    return new AuditLog(plane.ledger()).page(Optional.empty(), 50).entries();
  }

  private String queueState() {
    return dev.conveyor.submitqueue.control.QueueStates.get(plane.ledger(), "app").state().name();
  }

  @Test
  void actingNeedsATokenWithTheActionsRoleEvenOnLoopback() throws Exception {
    // reading is open on loopback; the session says who acts (nobody) and why
    JsonNode anonymous = session(null);
    assertThat(anonymous.path("signedIn").asBoolean()).isFalse();
    assertThat(anonymous.path("reason").asText()).contains("?token=");
    HttpResponse<String> none = send("POST", "/api/actions/pause-queue", null,
        Map.of("Content-Type", "application/json"), "{\"queue\":\"app\"}");
    assertThat(none.statusCode()).isEqualTo(401);
    assertThat(audit()).as("an anonymous refusal names nobody and is not logged").isEmpty();

    String viewer = token("vera", BearerAuthInterceptor.VIEWER_ROLE);
    JsonNode seen = session(viewer);
    assertThat(seen.path("subject").asText()).isEqualTo("oidc:vera");
    assertThat(seen.path("may").path("pause-queue").asBoolean()).isFalse();
    HttpResponse<String> refused = act("pause-queue", viewer, "{\"queue\":\"app\"}");
    assertThat(refused.statusCode()).isEqualTo(403);
    assertThat(refused.body()).contains("lacks the role reconcile-admin");
    assertThat(queueState()).isEqualTo("QUEUE_ACTIVE");

    // a submitter may cancel requests but not pause queues: the roles are gRPC's
    String submitter = token("sam", BearerAuthInterceptor.SUBMITQUEUE_ROLE);
    JsonNode mays = session(submitter).path("may");
    assertThat(mays.path("cancel-request").asBoolean()).isTrue();
    assertThat(mays.path("pause-queue").asBoolean()).isFalse();
    assertThat(mays.path("redrive-dead-letter").asBoolean()).isFalse();
    assertThat(act("drain-queue", submitter, "{\"queue\":\"app\"}").statusCode()).isEqualTo(403);

    List<AuditLog.Entry> log = audit();
    assertThat(log).extracting(AuditLog.Entry::actor).containsExactly("oidc:sam", "oidc:vera");
    assertThat(log).extracting(AuditLog.Entry::outcome).containsOnly(AuditLog.Outcome.REFUSED);
    assertThat(log.get(1).detail()).contains("403", "reconcile-admin");
  }

  @Test
  void crossSiteRequestsAndMissingPageTokensAreRefusedAndLogged() throws Exception {
    String admin = token("ada", BearerAuthInterceptor.ADMIN_ROLE);
    String csrf = session(admin).path("csrf").asText();
    assertThat(csrf).hasSize(64);
    String url = "/api/actions/pause-queue";
    // a form another page posts: its origin, no page token, a form body
    HttpResponse<String> form = send("POST", url, admin, Map.of("Content-Type", "application/x-www-form-urlencoded",
        "Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"), "queue=app");
    assertThat(form.statusCode()).isEqualTo(403);
    assertThat(form.body()).contains("cross-site request refused");
    HttpResponse<String> sameSite = send("POST", url, admin, Map.of("Content-Type", "application/json",
        PageActions.CSRF_HEADER, csrf, "Origin", "http://127.0.0.1:1", "Sec-Fetch-Site", "same-site"),
        "{\"queue\":\"app\"}");
    assertThat(sameSite.statusCode()).as("another port of this host is another origin").isEqualTo(403);
    HttpResponse<String> noToken = send("POST", url, admin, Map.of("Content-Type", "application/json"),
        "{\"queue\":\"app\"}");
    assertThat(noToken.statusCode()).isEqualTo(403);
    assertThat(noToken.body()).contains("page token");
    HttpResponse<String> stolen = send("POST", url, admin, Map.of("Content-Type", "application/json",
        PageActions.CSRF_HEADER, session(token("mallory", BearerAuthInterceptor.ADMIN_ROLE)).path("csrf").asText()),
        "{\"queue\":\"app\"}");
    assertThat(stolen.statusCode()).as("a page token is bound to its caller's token").isEqualTo(403);
    HttpResponse<String> text = send("POST", url, admin, Map.of("Content-Type", "text/plain",
        PageActions.CSRF_HEADER, csrf), "{\"queue\":\"app\"}");
    assertThat(text.statusCode()).isEqualTo(415);
    assertThat(act("pause-queue", admin, "{\"queue\":\"app\",\"why\":\"x\"}").body())
        .contains("why: not a field of pause-queue");
    assertThat(act("pause-queue", admin, "{\"queue\":\"" + "q".repeat(200) + "\"}").body())
        .contains("queue: at most 128 characters");
    assertThat(act("redrive-dead-letter", admin, "{\"topic\":\"runway.check.dlq\",\"seq\":\"1\"}").body())
        .contains("seq: the dead letter's sequence number");
    assertThat(act("nonsense", admin, "{}").statusCode()).isEqualTo(404);
    assertThat(queueState()).isEqualTo("QUEUE_ACTIVE");
    assertThat(audit()).hasSize(8).extracting(AuditLog.Entry::outcome).containsOnly(AuditLog.Outcome.REFUSED);
  }

  @Test
  void anOperatorPausesDrainsResumesCancelsRedrivesDiscardsAndEachIsLogged() throws Exception {
    String operator = token("olga", BearerAuthInterceptor.ADMIN_ROLE, BearerAuthInterceptor.SUBMITQUEUE_ROLE);
    JsonNode paused = JSON.readTree(act("pause-queue", operator, "{\"queue\":\"app\",\"reason\":\"release freeze\"}")
        .body());
    assertThat(paused.path("ok").asBoolean()).isTrue();
    assertThat(paused.path("message").asText()).isEqualTo("queue app is PAUSED");
    var state = dev.conveyor.submitqueue.control.QueueStates.get(plane.ledger(), "app");
    assertThat(state.changedBy()).isEqualTo("oidc:olga");
    assertThat(state.reason()).isEqualTo("release freeze");
    assertThat(act("drain-queue", operator, "{\"queue\":\"app\"}").statusCode()).isEqualTo(200);
    assertThat(queueState()).isEqualTo("QUEUE_DRAINING");
    assertThat(act("resume-queue", operator, "{\"queue\":\"app\"}").statusCode()).isEqualTo(200);

    // a request held by a paused queue, cancelled from the page; cancelling it again is the service's refusal
    act("pause-queue", operator, "{\"queue\":\"app\"}");
    String request = land(operator);
    HttpResponse<String> cancelled = act("cancel-request", operator, "{\"request\":\"" + request + "\"}");
    assertThat(cancelled.statusCode()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(30)).until(() -> requestState(request).equals("CANCELLED"));
    HttpResponse<String> unknown = act("cancel-request", operator, "{\"request\":\"app/999\"}");
    assertThat(unknown.statusCode()).isEqualTo(404);
    assertThat(JSON.readTree(unknown.body()).path("error").asText()).isEqualTo("NOT_FOUND");

    // a capture with no worker to run it, cancelled
    Path table = dir.resolve("orders");
    dev.conveyor.capture.sample.SampleTable.write(table, 1, 10);
    var control = dev.conveyor.api.reconcile.ReconcileControlGrpc.newBlockingStub(channel())
        .withCallCredentials(new dev.conveyor.reconcile.auth.BearerCredentials(() -> operator));
    control.registerTable(dev.conveyor.api.reconcile.RegisterTableRequest.newBuilder().setTableId("shop.orders")
        .setConnector(dev.conveyor.api.reconcile.ConnectorSpec.newBuilder()
            .setKind(dev.conveyor.api.reconcile.ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(table.toString()))
        .build());
    String capture = control.startCapture(dev.conveyor.api.reconcile.StartCaptureRequest.newBuilder()
        .setTableId("shop.orders").build()).getJobId();
    assertThat(act("cancel-capture", operator, "{\"job\":\"" + capture + "\"}").statusCode()).isEqualTo(200);
    assertThat(plane.ledger().jobs().get(capture).state().name()).isIn("CANCELLED", "CANCELLING");

    // a poison message dead-lettered, re-driven (twice: delivered once), then discarded
    try (var streams = new dev.conveyor.messagequeue.stream.Streams(plane.ledger(),
        dev.conveyor.app.wiring.Topics.registry())) {
      plane.ledger().transact(tx -> streams.publisher().publish(tx, dev.conveyor.runway.service.RunwayTopics.CHECK,
          "app", dev.conveyor.messagequeue.stream.IntentId.of("poison", "test"),
          "{not json".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
    await().atMost(Duration.ofMinutes(1)).until(() -> deadLetterSeqs().size() == 1);
    long seq = deadLetterSeqs().get(0);
    String letter = "{\"topic\":\"runway.check.dlq\",\"seq\":" + seq + "}";
    assertThat(JSON.readTree(act("redrive-dead-letter", operator, letter).body()).path("message").asText())
        .startsWith("dead letter runway.check.dlq#" + seq + " re-driven to runway.check[");
    assertThat(JSON.readTree(act("redrive-dead-letter", operator, letter).body()).path("message").asText())
        .endsWith("(it had been re-driven before)");
    await().atMost(Duration.ofMinutes(1)).until(() -> deadLetterSeqs().size() == 2); // the re-driven poison again
    assertThat(act("discard-dead-letter", operator, letter).statusCode()).isEqualTo(200);
    assertThat(deadLetterSeqs()).doesNotContain(seq).hasSize(1);
    assertThat(act("discard-dead-letter", operator, letter).statusCode()).isEqualTo(404);

    List<AuditLog.Entry> log = audit();
    assertThat(log).extracting(AuditLog.Entry::action).containsExactly("discard-dead-letter",
        "discard-dead-letter", "redrive-dead-letter", "redrive-dead-letter", "cancel-capture", "cancel-request",
        "cancel-request", "pause-queue", "resume-queue", "drain-queue", "pause-queue");
    assertThat(log).extracting(AuditLog.Entry::actor).containsOnly("oidc:olga");
    assertThat(log.get(0).outcome()).isEqualTo(AuditLog.Outcome.FAILED);
    assertThat(log.get(1).outcome()).isEqualTo(AuditLog.Outcome.DONE);
    assertThat(log.get(1).target()).isEqualTo("runway.check.dlq#" + seq);
    assertThat(log.get(5).detail()).startsWith("NOT_FOUND");
    assertThat(log.get(6).target()).isEqualTo(request);

    // the page shows the newest entries in its snapshot; the API pages through all of them
    JsonNode snapshot = JSON.readTree(send("GET", "/api/status", null, Map.of(), null).body());
    assertThat(snapshot.path("audit").get(0).path("action").asText()).isEqualTo("discard-dead-letter");
    assertThat(snapshot.path("queues").get(0).path("control").path("state").asText()).isEqualTo("PAUSED");
    JsonNode first = JSON.readTree(send("GET", "/api/audit?limit=4", null, Map.of(), null).body());
    assertThat(first.path("entries")).hasSize(4);
    JsonNode rest = JSON.readTree(send("GET", "/api/audit?limit=100&before=" + first.path("next").asText(), null,
        Map.of(), null).body());
    assertThat(rest.path("entries")).hasSize(7);
    assertThat(rest.has("next")).isFalse();
    assertThat(send("GET", "/api/audit?limit=0", null, Map.of(), null).statusCode()).isEqualTo(400);
    assertThat(send("GET", "/api/audit?before=x", null, Map.of(), null).statusCode()).isEqualTo(400);

    // retention: nothing is due today; everything is, once older than the age
    assertThat(RetentionTask.collectNow(plane.ledger(), new AuditRetention(Duration.ofDays(90)), 3)).isZero();
    assertThat(RetentionTask.collectNow(plane.ledger(), new AuditRetention(Duration.ofMillis(-1)), 3)).isEqualTo(11);
    assertThat(audit()).isEmpty();
  }

  private io.grpc.ManagedChannel channel;

  private io.grpc.ManagedChannel channel() {
    if (channel == null) {
      channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder.forAddress("127.0.0.1", plane.port())
          .usePlaintext().build();
    }
    return channel;
  }

  @AfterEach
  void closeChannel() {
    if (channel != null) {
      channel.shutdownNow();
    }
  }

  private String land(String bearer) throws Exception {
    String sha = repos.commit("feature", "main", "a change", files("a.txt", "a\n"));
    return dev.conveyor.api.submitqueue.GatewayGrpc.newBlockingStub(channel())
        .withCallCredentials(new dev.conveyor.reconcile.auth.BearerCredentials(() -> bearer))
        .land(dev.conveyor.api.submitqueue.LandRequest.newBuilder().setQueue("app").setChange(
            dev.conveyor.api.base.Change.newBuilder().addUris(changeUri("feature", sha))).build()).getRequestId();
  }

  private String requestState(String id) {
    return plane.ledger().transact(tx -> tx.queryOne("SELECT state FROM sq_requests WHERE request_id = ?",
        rs -> rs.getString(1), id).orElse(""));
  }

  private List<Long> deadLetterSeqs() {
    return plane.ledger().transact(tx -> tx.query("SELECT seq FROM mq_messages WHERE topic = 'runway.check.dlq'"
        + " ORDER BY seq", rs -> rs.getLong(1)));
  }
}
