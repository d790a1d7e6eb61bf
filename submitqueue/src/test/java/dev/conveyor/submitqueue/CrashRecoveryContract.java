package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.testing.SubmitQueueNode;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A node SIGKILLed mid-pipeline and restarted: every request ends, the target holds each landed change once. */
public abstract class CrashRecoveryContract extends LedgerTestBase {
  private static final String APP = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";

  @TempDir
  Path tmp;

  private record Node(ChildJvm jvm, ManagedChannel channel, GatewayGrpc.GatewayBlockingStub gateway) {
    dev.conveyor.api.submitqueue.QueueControlGrpc.QueueControlBlockingStub control() {
      return dev.conveyor.api.submitqueue.QueueControlGrpc.newBlockingStub(channel);
    }

    void set(dev.conveyor.api.submitqueue.QueueState state) {
      control().setQueueState(dev.conveyor.api.submitqueue.SetQueueStateRequest.newBuilder().setQueue("app")
          .setState(state).setChangedBy("ops@test").setReason("crash test").build());
    }

    void kill() throws InterruptedException {
      channel.shutdownNow();
      jvm.kill();
    }
  }

  private Node startNode(GitRepos repos, Path build) throws Exception {
    // the script's text, not its path: a sandboxed build sees only its tree and the system
    ChildJvm jvm = ChildJvm.start(SubmitQueueNode.class, ledgerUrl(), repos.originUrl(), Files.readString(build),
        tmp.resolve("node").toString());
    int port = Integer.parseInt(jvm.readUntil("ready").stream().filter(l -> l.startsWith("port "))
        .findFirst().orElseThrow().substring(5));
    ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    return new Node(jvm, channel, GatewayGrpc.newBlockingStub(channel));
  }

  private static State state(Node node, String id) {
    return node.gateway().status(StatusRequest.newBuilder().setRequestId(id).build()).getRequest().getState();
  }

  private static boolean terminal(State s) {
    return s == State.LANDED || s == State.ERROR || s == State.CANCELLED;
  }

  @Test
  void killedMidPipelineAndRestartedEveryRequestEndsAndTheTargetHoldsEachLandedChangeOnce() throws Exception {
    GitRepos repos = GitRepos.create(tmp.resolve("repos"), Map.of("README.md", "hello\n", "src/app.txt", APP));
    Path build = tmp.resolve("build.sh");
    Files.writeString(build, "sleep 0.3\nif [ -e BROKEN ]; then exit 3; fi\n");
    Map<String, String> changes = new LinkedHashMap<>();
    changes.put("first-line", repos.commit("first-line", "main", "first-line",
        files("src/app.txt", "ONE\n" + APP.substring(4))));
    changes.put("first-line-again", repos.commit("first-line-again", "main", "first-line-again",
        files("src/app.txt", "UNO\n" + APP.substring(4))));
    changes.put("last-line", repos.commit("last-line", "main", "last-line",
        files("src/app.txt", APP.replace("eight", "EIGHT"))));
    for (int i = 0; i < 4; i++) {
      changes.put("docs-" + i, repos.commit("docs-" + i, "main", "docs-" + i, files("docs/d" + i + ".txt", "d\n")));
    }
    changes.put("broken", repos.commit("broken", "main", "broken", files("BROKEN", "x\n")));

    Node node = startNode(repos, build);
    Map<String, String> requestOf = new LinkedHashMap<>();
    for (var e : changes.entrySet()) {
      requestOf.put(e.getKey(), node.gateway().land(LandRequest.newBuilder().setQueue("app")
          .setChange(Change.newBuilder().addUris(changeUri(e.getKey(), e.getValue()))).build()).getRequestId());
    }
    Node first = node;
    await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20))
        .until(() -> requestOf.values().stream().anyMatch(id -> state(first, id) == State.LANDED));
    first.kill();
    // The origin is a directory, so the killed node was its writer too: a kill in the middle of a push leaves
    // the ref's lock file behind, which a git server's receive-pack removes itself when its client goes away.
    // Do what the server would (seen in CI: every later push refused "failed to lock" for good).
    try (var locks = Files.walk(repos.origin())) {
      for (Path lock : locks.filter(p -> p.toString().endsWith(".lock")).toList()) {
        Files.deleteIfExists(lock);
      }
    }
    long inFlight = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_requests WHERE state NOT IN"
        + " ('LANDED', 'ERROR', 'CANCELLED')"));
    assertThat(inFlight).as("requests still in the pipeline when the node died").isPositive();

    Node second = startNode(repos, build);
    try {
      await().atMost(Duration.ofSeconds(120)).until(() -> requestOf.values().stream()
          .allMatch(id -> terminal(state(second, id))));
      Map<String, State> outcome = new LinkedHashMap<>();
      requestOf.forEach((name, id) -> outcome.put(name, state(second, id)));

      assertThat(outcome).containsEntry("first-line", State.LANDED).containsEntry("first-line-again", State.ERROR)
          .containsEntry("last-line", State.LANDED).containsEntry("broken", State.ERROR)
          .containsEntry("docs-0", State.LANDED).containsEntry("docs-3", State.LANDED);
      List<String> landed = new ArrayList<>();
      outcome.forEach((name, s) -> {
        if (s == State.LANDED) {
          landed.add(name);
        }
      });
      List<String> history = GitCli.run(repos.origin(), "log", "--format=%s", "main").lines()
          .filter(l -> !l.equals("initial")).toList();
      assertThat(history).as("each landed change exactly once, nothing else").containsExactlyInAnyOrderElementsOf(landed);
      assertThat(history.indexOf("last-line")).as("the dependent landed after its dependency")
          .isLessThan(history.indexOf("first-line"));
    } finally {
      second.kill();
    }
  }

  private long buildJobs() {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = 'BUILD'"));
  }

  @Test
  void pausedAndDrainingQueuesStaySoAcrossASigkillAndNothingIsLost() throws Exception {
    GitRepos repos = GitRepos.create(tmp.resolve("repos"), Map.of("README.md", "hello\n"));
    Path build = tmp.resolve("build.sh");
    Files.writeString(build, "sleep 0.5\n");
    Node node = startNode(repos, build);
    node.set(dev.conveyor.api.submitqueue.QueueState.QUEUE_PAUSED);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      String head = repos.commit("p" + i, "main", "p" + i, files("p" + i + ".txt", "p\n"));
      ids.add(node.gateway().land(LandRequest.newBuilder().setQueue("app")
          .setChange(Change.newBuilder().addUris(changeUri("p" + i, head))).build()).getRequestId());
    }
    Node paused = node;
    await().atMost(Duration.ofSeconds(60)).until(() -> ids.stream().allMatch(id -> state(paused, id) == State.BATCHED));
    paused.kill();

    Node second = startNode(repos, build);
    try {
      // still paused after the restart: nothing is built
      await().during(Duration.ofSeconds(1)).atMost(Duration.ofSeconds(10)).until(() -> buildJobs() == 0);
      assertThat(second.control().getQueueState(dev.conveyor.api.submitqueue.GetQueueStateRequest.newBuilder()
          .setQueue("app").build()).getState()).isEqualTo(dev.conveyor.api.submitqueue.QueueState.QUEUE_PAUSED);
      second.set(dev.conveyor.api.submitqueue.QueueState.QUEUE_DRAINING); // draining lets the active ones finish
      await().atMost(Duration.ofSeconds(30)).until(() -> buildJobs() > 0);
      second.kill(); // mid-drain
    } catch (RuntimeException | Error e) {
      second.kill();
      throw e;
    }

    Node third = startNode(repos, build);
    try {
      await().atMost(Duration.ofSeconds(120)).until(() -> ids.stream().allMatch(id -> state(third, id) == State.LANDED));
      String late = repos.commit("late", "main", "late", files("late.txt", "l\n"));
      assertThatThrownBy(() -> third.gateway().land(LandRequest.newBuilder().setQueue("app")
          .setChange(Change.newBuilder().addUris(changeUri("late", late))).build()))
          .satisfies(e -> assertThat(dev.conveyor.api.ErrorStatus.reasonOf(e)).isEqualTo("QUEUE_DRAINING"));
      List<String> history = GitCli.run(repos.origin(), "log", "--format=%s", "main").lines()
          .filter(l -> !l.equals("initial")).toList();
      assertThat(history).containsExactlyInAnyOrder("p0", "p1", "p2");
    } finally {
      third.kill();
    }
  }
}
