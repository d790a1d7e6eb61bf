package dev.conveyor.app.web;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.config.SubmitQueues;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The status page in a real headless Chromium: a node with a merge queue and a capture worker does
 * real work (one change lands, one fails its build, a table is captured, a poison message is
 * dead-lettered); the page must show each, then show a new request arrive without a reload.
 */
class StatusPageBrowserTest {
  @TempDir Path dir;
  private ControlPlane plane;
  private ManagedChannel channel;
  private ChromeDriver browser;

  @BeforeEach
  void requireBrowser() {
    Browsers.assumeChromium();
  }

  @AfterEach
  void stop() {
    if (browser != null) {
      browser.quit();
    }
    if (channel != null) {
      channel.shutdownNow();
    }
    if (plane != null) {
      plane.close();
    }
  }

  @Test
  void showsLandedAndFailedRequestsACaptureTreeAndADeadLetterLive() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    String good = repos.commit("good", "main", "good change", files("docs.txt", "docs\n"));
    String broken = repos.commit("broken", "main", "broken change", files("BROKEN", "x\n"));
    String later = repos.commit("later", "main", "later change", files("later.txt", "later\n"));
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Path queues = data.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = test ! -e BROKEN\n"
        + "queue.app.post-merge-command = test -e docs.txt\n");
    Path table = dir.resolve("orders");
    SampleTable.write(table, 3, 500);
    plane = ControlPlane.start(new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, "conveyor", true, 2, new CapturePlanner.Limits(1, 1L << 30),
        SubmitQueues.load(queues), 2, 0));
    channel = NettyChannelBuilder.forAddress("127.0.0.1", plane.port()).usePlaintext().build();
    String token = LocalToken.read(data.resolve(LocalToken.FILE_NAME));
    var gateway = GatewayGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token));
    var control = ReconcileControlGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token));

    String landed = land(gateway, changeUri("good", good), 5);
    String failed = land(gateway, changeUri("broken", broken));
    control.registerTable(RegisterTableRequest.newBuilder().setTableId("shop.orders").setConnector(
        ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY).setLocation(table.toString())).build());
    String capture = control.startCapture(StartCaptureRequest.newBuilder().setTableId("shop.orders").build()).getJobId();
    try (Streams streams = new Streams(plane.ledger(), Topics.registry())) {
      plane.ledger().transact(tx -> streams.publisher().publish(tx, RunwayTopics.CHECK, "app",
          IntentId.of("poison", "test"), "{not json".getBytes(StandardCharsets.UTF_8)));
    }
    await().atMost(Duration.ofMinutes(2)).until(() -> state(landed).equals("LANDED") && state(failed).equals("ERROR")
        && jobState(capture).equals("SUCCEEDED") && deadLetters() > 0);

    browser = Browsers.chromium();
    browser.get("http://127.0.0.1:" + plane.httpPort() + "/");
    // the page re-renders on every change, so each read retries on a replaced element
    WebDriverWait wait = new WebDriverWait(browser, Duration.ofSeconds(30));
    wait.ignoring(StaleElementReferenceException.class);
    String landedRow = "tr.request[data-request-id='" + landed + "']";
    String failedRow = "tr.request[data-request-id='" + failed + "']";
    String tree = ".capture-tree[data-job-id='" + capture + "']";
    String letter = ".dlq[data-topic='runway.check.dlq'] tr.dead-letter";
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(landedRow + "[data-state='LANDED']")));

    assertThat(text(wait, landedRow)).contains(landed, "p5", "LANDED", "STARTED", "VALIDATED", "BATCHED");
    assertThat(attribute(wait, failedRow, "data-state")).isEqualTo("ERROR");
    assertThat(text(wait, failedRow)).contains("build failed");
    String logLink = ".path[data-state='FAILED'] a.build-log";
    String href = attribute(wait, logLink, "href");
    assertThat(href).matches("http://127\\.0\\.0\\.1:\\d+/api/builds/[^/]+/log");
    var log = java.net.http.HttpClient.newHttpClient().send(java.net.http.HttpRequest.newBuilder(
        java.net.URI.create(href)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(log.statusCode()).isEqualTo(200);
    assertThat(log.headers().firstValue("X-Build-Finished")).hasValue("true");
    assertThat(log.headers().firstValue("X-Content-Type-Options")).hasValue("nosniff");
    // per request: each build attempt, its outcome and its log
    assertThat(attribute(wait, failedRow + " .attempt[data-state='FAILED'] a.build-log", "href")).isEqualTo(href);
    assertThat(text(wait, failedRow + " .attempt")).contains("build ", "FAILED");
    assertThat(count(wait, landedRow + " .attempt[data-state='PASSED'] a.build-log")).isEqualTo(1);
    // each verdict shown is the one its build's effect claim holds
    assertThat(count(wait, landedRow + " .attempt[data-state='PASSED'][data-verdict='claim']")).isEqualTo(1);
    assertThat(count(wait, failedRow + " .attempt[data-state='FAILED'][data-verdict='claim']")).isGreaterThan(0);
    assertThat(attribute(wait, tree, "data-state")).isEqualTo("SUCCEEDED");
    assertThat(text(wait, tree)).contains("shop.orders");
    assertThat(count(wait, tree + " li.job[data-kind='EXEC_FILE_GROUP'][data-state='SUCCEEDED']")).isEqualTo(3);
    assertThat(count(wait, tree + " li.job[data-kind='FINALIZE_SNAPSHOT']"))
        .isEqualTo(1);
    assertThat(text(wait, letter)).contains("runway.check", "runway", "not a valid");
    assertThat(count(wait, "svg.graph g.node"))
        .isGreaterThanOrEqualTo(2);
    assertThat(text(wait, "tr.topic[data-topic='submitqueue.start']")).contains("submitqueue-start");
    // the queue's last day: one landed, one failed as a build failure, time in queue, a bar for this hour
    String analytics = ".queue[data-queue='app'] .analytics";
    assertThat(text(wait, analytics + " [data-metric='landed']")).isEqualTo("1");
    assertThat(text(wait, analytics + " [data-metric='failed']")).isEqualTo("1");
    assertThat(text(wait, analytics + " [data-metric='p50']")).matches("[0-9.]+ (s|min)");
    assertThat(text(wait, analytics + " [data-metric='builds-per-landed']")).matches("[0-9.]+");
    assertThat(text(wait, analytics + " [data-kind='build']")).contains("build 1");
    assertThat(count(wait, analytics + " svg.landed-per-hour rect")).isEqualTo(24);
    assertThat(attribute(wait, analytics + " svg.landed-per-hour rect:last-child", "data-landed")).isEqualTo("1");
    // post-merge verification checked the landed commit: main is green there
    String health = ".queue[data-queue='app'] .main-health";
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector(health + "[data-health='GREEN']")));
    assertThat(text(wait, health)).contains("GREEN at", repos.tip("main").substring(0, 12));

    Path shots = Path.of("target", "status-page");
    Files.createDirectories(shots);
    Files.write(shots.resolve("page.png"), browser.getScreenshotAs(OutputType.BYTES));
    for (var e : Map.of("landed", landedRow, "failed", failedRow, "capture-tree", tree, "dead-letter", letter)
        .entrySet()) {
      byte[] png = wait.until(d -> d.findElement(By.cssSelector(e.getValue())).getScreenshotAs(OutputType.BYTES));
      Files.write(shots.resolve(e.getKey() + ".png"), png);
      assertThat(colours(png)).as("screenshot of the %s element shows content", e.getKey()).isGreaterThan(3);
    }

    // the capture's own page: its tree and per-file statistics (rows, NDV) of the snapshot it finalized
    browser.get("http://127.0.0.1:" + plane.httpPort() + "/captures/" + capture);
    wait.until(ExpectedConditions.presenceOfElementLocated(By.cssSelector("h2.capture-page[data-state='SUCCEEDED']")));
    assertThat(count(wait, "table.file-stats tr.file")).as(text(wait, "#page")).isEqualTo(3);
    assertThat(text(wait, "table.file-stats tr.file td.column [data-stat='ndv']")).matches("[0-9,]+");
    assertThat(count(wait, "ul.tree li.job[data-kind='EXEC_FILE_GROUP'][data-state='SUCCEEDED']")).isEqualTo(3);
    browser.get("http://127.0.0.1:" + plane.httpPort() + "/");

    // live: a request landed after the page loaded appears without a reload
    String fresh = land(gateway, changeUri("later", later));
    wait.until(ExpectedConditions.presenceOfElementLocated(
        By.cssSelector("tr.request[data-request-id='" + fresh + "'][data-state='LANDED']")));
    assertThat(attribute(wait, "#live", "data-live")).isEqualTo("live");
  }

  private static String text(WebDriverWait wait, String css) {
    return wait.until(d -> d.findElement(By.cssSelector(css)).getText());
  }

  private static String attribute(WebDriverWait wait, String css, String name) {
    return wait.until(d -> d.findElement(By.cssSelector(css)).getAttribute(name));
  }

  private static int count(WebDriverWait wait, String css) {
    return wait.until(d -> d.findElements(By.cssSelector(css)).size());
  }

  private static String land(GatewayGrpc.GatewayBlockingStub gateway, String uri) {
    return land(gateway, uri, 0);
  }

  private static String land(GatewayGrpc.GatewayBlockingStub gateway, String uri, int priority) {
    return gateway.land(LandRequest.newBuilder().setQueue("app").setChange(Change.newBuilder().addUris(uri))
        .setPriority(priority).build()).getRequestId();
  }

  private String state(String requestId) {
    return plane.ledger().transact(tx -> tx.queryOne("SELECT state FROM sq_requests WHERE request_id = ?",
        rs -> rs.getString(1), requestId).orElse(""));
  }

  private String jobState(String jobId) {
    return plane.ledger().jobs().get(jobId).state().name();
  }

  private long deadLetters() {
    return plane.ledger().transact(tx -> tx.queryLong("SELECT COUNT(*) FROM mq_messages WHERE topic = 'runway.check.dlq'"));
  }

  private static int colours(byte[] png) throws IOException {
    BufferedImage image = ImageIO.read(new ByteArrayInputStream(png));
    assertThat(image.getWidth()).isPositive();
    Set<Integer> seen = new HashSet<>();
    for (int y = 0; y < image.getHeight(); y += 2) {
      for (int x = 0; x < image.getWidth(); x += 2) {
        seen.add(image.getRGB(x, y));
      }
    }
    return seen.size();
  }
}
