package dev.conveyor.app.web;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.app.audit.AuditLog;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalOidcIssuer;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.config.SubmitQueues;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
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
import org.openqa.selenium.By;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The page's actions in a real headless Chromium against a node with OIDC tokens: a viewer sees no action and
 * is refused each one; an operator pauses, drains and resumes a queue, cancels a request and a capture,
 * re-drives and discards a dead letter and follows a build's log, each by clicking; a form on another site
 * posting to the node with the operator's cookie is refused; the audit log on the page shows all of it. The
 * pages behind the links (request, batch, capture, topic, lists with filters and paging) are walked too.
 */
class StatusPageActionsBrowserTest {
  private static final List<String> ACTIONS = List.of("cancel-request", "pause-queue", "resume-queue",
      "drain-queue", "redrive-dead-letter", "discard-dead-letter", "cancel-capture");
  @TempDir Path dir;
  private LocalOidcIssuer issuer;
  private ControlPlane plane;
  private ManagedChannel channel;
  private ChromeDriver browser;
  private HttpServer evil;
  private WebDriverWait wait;
  private String base;

  @BeforeEach
  void start() throws Exception {
    Browsers.assumeChromium();
    issuer = new LocalOidcIssuer();
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (evil != null) {
      evil.stop(0);
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (plane != null) {
      plane.close();
    }
    if (issuer != null) {
      issuer.close();
    }
  }

  private String token(String subject, String... roles) {
    return issuer.mint(issuer.issuer(), "conveyor", Instant.now().plusSeconds(600), List.of(roles), subject);
  }

  @Test
  void aViewerIsRefusedAnOperatorActsAndTheAuditLogShowsBoth() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Path queues = data.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = echo building the change; echo all good\n");
    // no in-process capture worker: a capture stays pending until cancelled
    plane = ControlPlane.start(new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.OIDC, issuer.issuer(), "conveyor", false, 1, new CapturePlanner.Limits(1, 1L << 30),
        SubmitQueues.load(queues), 1, 0));
    base = "http://127.0.0.1:" + plane.httpPort();
    String operatorToken = token("olga", BearerAuthInterceptor.ADMIN_ROLE, BearerAuthInterceptor.SUBMITQUEUE_ROLE);
    channel = NettyChannelBuilder.forAddress("127.0.0.1", plane.port()).usePlaintext().build();
    var gateway = GatewayGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> operatorToken));
    var control = ReconcileControlGrpc.newBlockingStub(channel)
        .withCallCredentials(new BearerCredentials(() -> operatorToken));

    // something for every action: a landed change (its build log), a pending capture, a dead letter
    String landed = gateway.land(LandRequest.newBuilder().setQueue("app").setChange(Change.newBuilder().addUris(
        changeUri("first", repos.commit("first", "main", "first", files("a.txt", "a\n"))))).build()).getRequestId();
    Path table = dir.resolve("orders");
    SampleTable.write(table, 2, 50);
    control.registerTable(RegisterTableRequest.newBuilder().setTableId("shop.orders").setConnector(
        ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(table.toString())).build());
    String capture = control.startCapture(StartCaptureRequest.newBuilder().setTableId("shop.orders").build()).getJobId();
    try (Streams streams = new Streams(plane.ledger(), Topics.registry())) {
      plane.ledger().transact(tx -> streams.publisher().publish(tx, RunwayTopics.CHECK, "app",
          IntentId.of("poison", "test"), "{not json".getBytes(StandardCharsets.UTF_8)));
    }
    await().atMost(Duration.ofMinutes(2)).until(() -> requestState(landed).equals("LANDED") && deadLetters().size() == 1);

    browser = Browsers.chromium();
    wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    wait.ignoring(StaleElementReferenceException.class);

    // a viewer: reads everything, sees no action, and each action sent from the page anyway is refused
    browser.get(base + "/?token=" + token("vera", BearerAuthInterceptor.VIEWER_ROLE));
    wait.until(ExpectedConditions.textToBe(By.id("session"), "signed in as oidc:vera"));
    assertThat(browser.getCurrentUrl()).as("the token leaves the address bar").doesNotContain("token=");
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("tr.request[data-request-id='" + landed + "']")));
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(".capture-tree[data-job-id='" + capture + "']")));
    assertThat(browser.findElements(By.cssSelector("button.act"))).isEmpty();
    for (String action : ACTIONS) {
      Object status = browser.executeAsyncScript("const done = arguments[arguments.length - 1];"
          + "fetch('/api/actions/" + action + "', {method: 'POST', headers: {'Content-Type': 'application/json',"
          + " 'X-Conveyor-Csrf': session.csrf}, body: arguments[0]}).then(r => done(r.status));", body(action, capture));
      assertThat(((Number) status).intValue()).as(action).isEqualTo(403);
    }
    wait.until(d -> d.findElements(By.cssSelector("tr.audit-entry[data-actor='oidc:vera'][data-outcome='refused']"))
        .size() == ACTIONS.size());

    // the operator
    browser.get(base + "/?token=" + operatorToken);
    wait.until(ExpectedConditions.textToBe(By.id("session"), "signed in as oidc:olga"));
    String queue = ".queue[data-queue='app'] ";
    click(queue + "button[data-action='pause-queue']");
    waitFor(queue + ".control[data-state='PAUSED']");
    assertThat(text(queue + ".control")).contains("by oidc:olga", "from the status page");

    // a request held by the paused queue, cancelled
    String held = gateway.land(LandRequest.newBuilder().setQueue("app").setChange(Change.newBuilder().addUris(
        changeUri("second", repos.commit("second", "main", "second", files("b.txt", "b\n"))))).build()).getRequestId();
    String heldRow = "tr.request[data-request-id='" + held + "']";
    click(heldRow + " button[data-action='cancel-request']");
    browser.switchTo().alert().accept();
    waitFor(heldRow + "[data-state='CANCELLED']");

    click(queue + "button[data-action='drain-queue']");
    browser.switchTo().alert().accept();
    waitFor(queue + ".control[data-state='DRAINING']");
    click(queue + "button[data-action='resume-queue']");
    waitFor(queue + ".control[data-state='ACTIVE']");

    String tree = ".capture-tree[data-job-id='" + capture + "']";
    click(tree + " button[data-action='cancel-capture']");
    browser.switchTo().alert().accept();
    waitFor(tree + "[data-state='CANCELLED']");

    String letters = ".dlq[data-topic='runway.check.dlq'] ";
    long seq = deadLetters().get(0);
    click(letters + "tr.dead-letter[data-seq='" + seq + "'] button[data-action='redrive-dead-letter']");
    wait.until(ExpectedConditions.textMatches(By.id("flash"), java.util.regex.Pattern.compile("re-driven to runway\\.check")));
    await().atMost(Duration.ofMinutes(1)).until(() -> deadLetters().size() == 2); // the poison, dead again
    click(letters + "tr.dead-letter[data-seq='" + seq + "'] button[data-action='discard-dead-letter']");
    browser.switchTo().alert().accept();
    wait.until(ExpectedConditions.numberOfElementsToBe(By.cssSelector(letters + "tr.dead-letter[data-seq='" + seq + "']"), 0));
    assertThat(deadLetters()).doesNotContain(seq).hasSize(1);

    // every action is on the page's audit log, by the operator, done
    for (String action : List.of("pause-queue", "cancel-request", "drain-queue", "resume-queue", "cancel-capture",
        "redrive-dead-letter", "discard-dead-letter")) {
      waitFor("tr.audit-entry[data-action='" + action + "'][data-actor='oidc:olga'][data-outcome='done']");
    }

    // a page of another site posts a form to the node; the browser sends the operator's cookie (same site), the
    // node refuses it, and the queue stays as it was
    evil = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    evil.createContext("/", ex -> {
      byte[] page = ("<html><body><form id='f' method='POST' enctype='text/plain' action='" + base
          + "/api/actions/pause-queue'><input name='{\"queue\":\"app\",\"x\":\"' value='\"}'></form>"
          + "<script>document.getElementById('f').submit()</script></body></html>").getBytes(StandardCharsets.UTF_8);
      ex.getResponseHeaders().set("Content-Type", "text/html");
      ex.sendResponseHeaders(200, page.length);
      ex.getResponseBody().write(page);
      ex.close();
    });
    evil.start();
    browser.get("http://127.0.0.1:" + evil.getAddress().getPort() + "/");
    wait.until(d -> d.getCurrentUrl().startsWith(base + "/api/actions/pause-queue"));
    String refusal = wait.until(d -> d.findElement(By.tagName("body")).getText());
    assertThat(refusal).contains("cross-site request refused");
    assertThat(dev.conveyor.submitqueue.control.QueueStates.get(plane.ledger(), "app").state().name())
        .isEqualTo("QUEUE_ACTIVE");
    AuditLog.Entry forged = new AuditLog(plane.ledger()).page(Optional.empty(), 1).entries().get(0);
    assertThat(forged.actor()).isEqualTo("oidc:olga");
    assertThat(forged.outcome()).isEqualTo(AuditLog.Outcome.REFUSED);
    assertThat(forged.detail()).contains("cross-site");

    // the pages behind the links, each at a URL of its own
    browser.get(base + "/requests/" + landed);
    waitFor("h2.request-page[data-state='LANDED']");
    assertThat(text("ol.history")).contains("STARTED", "VALIDATED", "BATCHED", "LANDED");
    assertThat(text(".merge-result")).contains("merge of batch", "pushed");
    screenshot("request-page");
    String build = attribute("tr.build[data-state='PASSED']", "data-build-id");
    click("tr.build[data-state='PASSED'] a.build-view");
    waitFor("#log-state[data-finished='true']");
    assertThat(browser.getCurrentUrl()).isEqualTo(base + "/builds/" + build);
    assertThat(text("pre.log")).contains("building the change", "all good");

    browser.get(base + "/requests/" + landed);
    click("a.batch-link");
    waitFor("h2.batch-page[data-state='SUCCEEDED']");
    assertThat(text("h2.batch-page ~ p")).contains(landed);
    waitFor("tr.batch .path");

    browser.get(base + "/requests?queue=app&state=CANCELLED");
    waitFor("tr.request[data-request-id='" + held + "']");
    assertThat(browser.findElements(By.cssSelector("tr.request[data-request-id='" + landed + "']"))).isEmpty();
    browser.get(base + "/requests?queue=app&limit=1");
    String first = attribute("tr.request", "data-request-id");
    assertThat(first).isIn(landed, held);
    click("a.next-page");
    waitFor("tr.request[data-request-id='" + (first.equals(landed) ? held : landed) + "']");
    assertThat(browser.getCurrentUrl()).contains("page_token=").contains("queue=app");
    waitFor("a.first-page");

    browser.get(base + "/captures?table=shop.orders&state=CANCELLED");
    waitFor("tr.capture[data-job-id='" + capture + "']");
    browser.get(base + "/captures?table=no.such.table");
    waitFor("table.captures");
    assertThat(browser.findElements(By.cssSelector("tr.capture"))).isEmpty();
    browser.get(base + "/captures/" + capture);
    waitFor("h2.capture-page[data-state='CANCELLED']");
    screenshot("capture-page");

    browser.get(base + "/topics/runway.check.dlq");
    waitFor("h2.topic-page");
    waitFor(".dlq tr.dead-letter");
    screenshot("topic-page");
    browser.get(base + "/audit");
    waitFor("tr.audit-entry[data-action='pause-queue'][data-outcome='refused']");
    screenshot("audit-page");
  }

  private static String body(String action, String capture) {
    return switch (action) {
      case "cancel-request" -> "{\"request\":\"app/1\"}";
      case "redrive-dead-letter", "discard-dead-letter" -> "{\"topic\":\"runway.check.dlq\",\"seq\":1}";
      case "cancel-capture" -> "{\"job\":\"" + capture + "\"}";
      default -> "{\"queue\":\"app\"}";
    };
  }

  private void screenshot(String name) throws java.io.IOException {
    Path shots = Path.of("target", "status-page");
    Files.createDirectories(shots);
    Files.write(shots.resolve(name + ".png"), browser.getScreenshotAs(org.openqa.selenium.OutputType.BYTES));
  }

  private void click(String css) {
    wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector(css))).click();
  }

  private void waitFor(String css) {
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(css)));
  }

  private String text(String css) {
    return wait.until(d -> d.findElement(By.cssSelector(css)).getText());
  }

  private String attribute(String css, String name) {
    return wait.until(d -> d.findElement(By.cssSelector(css)).getAttribute(name));
  }

  private String requestState(String id) {
    return plane.ledger().transact(tx -> tx.queryOne("SELECT state FROM sq_requests WHERE request_id = ?",
        rs -> rs.getString(1), id).orElse(""));
  }

  private List<Long> deadLetters() {
    return plane.ledger().transact(tx -> tx.query("SELECT seq FROM mq_messages WHERE topic = 'runway.check.dlq'"
        + " ORDER BY seq", rs -> rs.getLong(1)));
  }
}
