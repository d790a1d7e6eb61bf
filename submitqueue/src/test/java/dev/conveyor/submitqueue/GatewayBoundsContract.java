package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.ListRequest;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.api.submitqueue.WatchRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.Collections;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every gateway field beyond its bound is refused with INVALID_ARGUMENT and ErrorInfo naming the
 * field (metadata {@code field}), through the real gateway on loopback; nothing oversize is stored.
 */
public abstract class GatewayBoundsContract extends LedgerTestBase {
  @TempDir Path tmp;
  SubmitQueueHarness sq;

  @BeforeEach
  void start() {
    sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 2, SubmitQueueConfig.ConflictAnalyzer.PATHS);
  }

  @AfterEach
  void stop() {
    sq.close();
  }

  static void refused(String field, ThrowingCallable call) {
    assertThatThrownBy(call).as(field).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
      assertThat(ErrorStatus.reasonOf(e)).isEqualTo("INVALID_ARGUMENT");
      assertThat(ErrorStatus.infoOf(e).getMetadataMap()).containsEntry("field", field);
      assertThat(e.getStatus().getDescription()).contains("'" + field + "'").hasSizeLessThan(400);
    });
  }

  private static LandRequest land(String queue, Iterable<String> uris) {
    return LandRequest.newBuilder().setQueue(queue).setChange(Change.newBuilder().addAllUris(uris)).build();
  }

  @Test
  void landRefusesAHugeUriTooManyUrisAndBadQueueNames() {
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "x\n"));
    String good = changeUri("feature", head);
    String huge = good + "x".repeat(3 * 1024 * 1024);
    refused("change.uris", () -> sq.gateway.land(land("app", java.util.List.of(huge))));
    refused("change.uris", () -> sq.gateway.land(land("app", Collections.nCopies(20_000, good))));
    refused("change.uris", () -> sq.gateway.land(land("app", java.util.List.of(good + "\u202E"))));
    refused("queue", () -> sq.gateway.land(land("q".repeat(3_000_000), java.util.List.of(good))));
    refused("queue", () -> sq.gateway.land(land("ap\0p", java.util.List.of(good))));
    refused("queue", () -> sq.gateway.land(land("", java.util.List.of(good))));
    long stored = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_requests"));
    assertThat(stored).as("nothing refused was stored").isZero();
    // exactly at the bounds is accepted: 100 URIs (the same change 100 times is still one valid list)
    assertThat(sq.gateway.land(land("app", Collections.nCopies(100, good))).getRequestId()).isEqualTo("app/1");
  }

  @Test
  void idsAreBoundedAndPrintableOnEveryCall() {
    String big = "app/" + "9".repeat(600);
    String bidi = "app/1\u202E";
    for (String id : new String[] {big, bidi, "app/\0" + "1"}) {
      refused("request_id", () -> sq.gateway.status(StatusRequest.newBuilder().setRequestId(id).build()));
      refused("request_id", () -> sq.gateway.cancel(CancelRequest.newBuilder().setRequestId(id).build()));
      refused("request_id", () -> sq.gateway.history(HistoryRequest.newBuilder().setRequestId(id).build()));
      refused("request_id", () -> sq.gateway.watch(WatchRequest.newBuilder().setRequestId(id).build()).hasNext());
    }
  }

  @Test
  void listRefusesBadLimitsAndTokensItDidNotIssue() {
    for (int i = 0; i < 3; i++) {
      String head = sq.repos.commit("f" + i, "main", "f" + i, files("docs/f" + i + ".txt", "x\n"));
      sq.land(changeUri("f" + i, head));
    }
    refused("limit", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("app").setLimit(-1).build()));
    refused("limit", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("app").setLimit(501).build()));
    refused("page_token", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("app").setPageToken("garbage!").build()));
    refused("page_token", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("app").setPageToken("2").build()));
    refused("queue", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("a".repeat(201)).build()));

    var first = sq.gateway.list(ListRequest.newBuilder().setQueue("app").setLimit(2).build());
    assertThat(first.getRequestsList()).hasSize(2);
    var second = sq.gateway.list(ListRequest.newBuilder().setQueue("app").setLimit(2)
        .setPageToken(first.getNextPageToken()).build());
    assertThat(second.getRequestsList()).extracting(r -> r.getRequestId()).containsExactly("app/3");
    // a token continues only the listing it came from
    refused("page_token", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("").setLimit(2)
        .setPageToken(first.getNextPageToken()).build()));
    String token = first.getNextPageToken();
    int mid = token.length() / 2;
    String edited = token.substring(0, mid) + (token.charAt(mid) == 'A' ? 'B' : 'A') + token.substring(mid + 1);
    refused("page_token", () -> sq.gateway.list(ListRequest.newBuilder().setQueue("app").setLimit(2)
        .setPageToken(edited).build()));
  }

  @Test
  void watchesPerNodeAreBoundedAndAnEndedWatchFreesItsPlace() throws Exception {
    sq.holdBuilds(); // the request stays open, so its watches do too
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "better guide\n"));
    String id = sq.land(changeUri("feature", head));
    var scheduler = java.util.concurrent.Executors.newSingleThreadScheduledExecutor();
    io.grpc.Server server = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder
        .forAddress(new java.net.InetSocketAddress("127.0.0.1", 0))
        .addService(new dev.conveyor.submitqueue.gateway.GatewayService(ledger, sq.pipeline.admission(),
            sq.pipeline.cancellation(), scheduler, 2))
        .build().start();
    io.grpc.ManagedChannel channel = io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder
        .forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    try {
      var stub = dev.conveyor.api.submitqueue.GatewayGrpc.newBlockingStub(channel);
      WatchRequest watch = WatchRequest.newBuilder().setRequestId(id).build();
      io.grpc.Context.CancellableContext first = io.grpc.Context.current().withCancellation();
      var firstStream = first.call(() -> stub.watch(watch));
      assertThat(firstStream.next().getRequestId()).isEqualTo(id);
      assertThat(stub.watch(watch).next().getRequestId()).isEqualTo(id);
      assertThatThrownBy(() -> stub.watch(watch).next()).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
        assertThat(ErrorStatus.reasonOf(e)).isEqualTo("OVERLOADED");
      });
      first.cancel(null);
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(10)).ignoreExceptions()
          .until(() -> stub.watch(watch).next().getRequestId().equals(id));
    } finally {
      channel.shutdownNow();
      server.shutdownNow();
      scheduler.shutdownNow();
      sq.releaseBuilds();
    }
  }
}
