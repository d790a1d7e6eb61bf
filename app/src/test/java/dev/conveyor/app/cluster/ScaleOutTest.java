package dev.conveyor.app.cluster;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.app.Main;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.capture.sample.SampleTable;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.ledger.testing.NotifyCounter;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.messagequeue.stream.Partitioner;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's scale-out block, run as written (three nodes sharing a token file, a capture worker and a
 * build worker on one PostgreSQL; only the database name is this test's), then held to the figures the
 * README gives: an idle node costs at most 5 ledger transactions a second; a burst of 20 changes costs at
 * most 50 of Conveyor's transactions per landed change, and at most 18 NOTIFYs, each delivered to one LISTEN
 * connection per process; its Runway checks run on more than one node; killing the node
 * that holds the queue's merge partition lets a survivor take it within 5 s (and say so in its log), and
 * the queue goes on; a table captured through the node without a capture worker is captured elsewhere.
 */
class ScaleOutTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();
  @TempDir Path dir;

  private static final Pattern BANNER = Pattern.compile("conveyor: serving gRPC on [^:]+:(\\d+) .*");
  private static final int BURST = 20;
  /** This test's own queries, which the ledger's transaction count includes and the figures must not. */
  private static final AtomicLong OWN_TRANSACTIONS = new AtomicLong();

  /** One command of the README block, as words. */
  record Command(List<String> words) {}

  static List<Command> readmeBlock() throws Exception {
    List<String> readme = Files.readAllLines(Path.of("..", "README.md"));
    int marker = readme.indexOf("<!-- scale-out -->");
    assertThat(marker).as("the README marks its scale-out block").isNotNegative();
    assertThat(readme.get(marker + 1)).isEqualTo("```bash");
    List<Command> commands = new ArrayList<>();
    for (String line : readme.subList(marker + 2, readme.size())) {
      if (line.equals("```")) {
        return commands;
      }
      String command = line.replaceAll("\\s+#.*$", "").trim();
      if (command.endsWith("&")) {
        command = command.substring(0, command.length() - 1).trim();
      }
      commands.add(new Command(List.of(command.split("\\s+"))));
    }
    throw new AssertionError("the README's scale-out block does not end");
  }

  @Test
  void theReadmeFleetIsCheapFailsOverQuicklyAndSpreadsItsGitWork() throws Exception {
    Path work = dir.resolve("fleet");
    Files.createDirectories(work);
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    Files.writeString(work.resolve("queues.properties"), "queue.app.remote = " + repos.originUrl() + "\n"
        + "queue.app.build-command = sleep 1\nqueue.app.build-budget = 4\n");
    Map<String, String> env = new LinkedHashMap<>();
    Map<String, ChildJvm> nodes = new LinkedHashMap<>(); // data dir → node
    List<ChildJvm> workers = new ArrayList<>();
    try {
      for (Command c : readmeBlock()) {
        List<String> w = c.words();
        switch (w.get(0)) {
          case "createdb" -> assertThat(w).last().isEqualTo("conveyor"); // the extension made this test's database
          case "export" -> {
            assertThat(w.get(1)).startsWith("CONVEYOR_LEDGER=postgresql://").endsWith("/conveyor");
            env.put("CONVEYOR_LEDGER", pg.url());
          }
          case "bin/conveyor" -> {
            List<String> args = w.subList(1, w.size());
            String name = args.get(0).equals("serve") ? args.get(args.indexOf("--data-dir") + 1)
                : args.get(0) + "-" + args.get(1);
            ChildJvm jvm = ChildJvm.start(work, work.resolve(name + ".log"), env, Main.class,
                args.toArray(String[]::new));
            if (args.get(0).equals("serve")) {
              jvm.awaitLine(l -> BANNER.matcher(l).matches(), Duration.ofSeconds(90));
              nodes.put(name, jvm);
            } else {
              workers.add(jvm);
            }
          }
          default -> throw new AssertionError("the test does not know how to run: " + String.join(" ", w));
        }
      }
      assertThat(nodes).containsOnlyKeys("node-a", "node-b", "node-c");
      assertThat(workers).hasSize(2);
      String token = Files.readString(work.resolve("fleet-token")).trim();
      Map<String, Integer> grpcPort = Map.of("node-a", 7420, "node-b", 7430, "node-c", 7440);
      Map<String, Integer> httpPort = Map.of("node-a", 7421, "node-b", 7431, "node-c", 7441);

      try (Ledger ledger = Ledger.open(pg.url())) {
        // settled: every partition of every group held by one of the three live nodes
        await().atMost(Duration.ofSeconds(60)).until(() -> count(ledger, "SELECT COUNT(DISTINCT owner) FROM"
            + " mq_group_partitions") == 3 && count(ledger, "SELECT COUNT(*) FROM mq_group_partitions"
            + " WHERE owner IS NULL") == 0);

        // --- idle cost: a rate needs a window of wall time. A PostgreSQL backend may hold its statistics up
        // to 10 s before it reports them, so the start-up's transactions are let through first.
        Thread.sleep(12_000);
        long idleStart = xacts(ledger);
        long idleT0 = System.nanoTime();
        Thread.sleep(15_000);
        double idleRate = (xacts(ledger) - idleStart) / seconds(idleT0);
        double perNode = idleRate / 3;
        System.out.printf("scale-out: idle fleet %.1f transactions/s, %.1f per node (3 nodes, 2 workers)%n",
            idleRate, perNode);
        assertThat(perNode).as("idle transactions a second per node").isLessThanOrEqualTo(5.0);

        // --- a burst through a node that does not hold the queue's merge partition
        String owner = mergeOwner(ledger);
        String gatewayNode = nodes.keySet().stream().filter(n -> !owner.endsWith("-" + nodes.get(n).pid()))
            .findFirst().orElseThrow();
        ManagedChannel channel = channel(grpcPort.get(gatewayNode), token);
        var gateway = GatewayGrpc.newBlockingStub(channel);
        List<String> uris = new ArrayList<>();
        for (int i = 1; i <= BURST + 2; i++) {
          uris.add(changeUri("c" + i, repos.commit("c" + i, "main", "change " + i, files("f" + i + ".txt", i + "\n"))));
        }
        // PostgreSQL wakes every listening backend of the database for every commit that NOTIFYs, and each runs
        // a short read-only transaction for it, reported when that backend next runs a statement: for a LISTEN
        // connection, its probe after 10 quiet seconds. So the count waits until no NOTIFY came for longer, then
        // splits the total into those deliveries (at most NOTIFYs x listening backends, this test's counter
        // included: an upper bound, as a commit may NOTIFY more than once) and Conveyor's own transactions.
        try (NotifyCounter notifies = new NotifyCounter("jdbc:postgresql://" + PostgresDatabase.HOST + ":"
            + PostgresDatabase.PORT + "/" + pg.name(), NotifyCounter.CONVEYOR_CHANNELS)) {
          long burstStart = xacts(ledger);
          long ownAtStart = OWN_TRANSACTIONS.get();
          long notifiesAtStart = notifies.received();
          long burstT0 = System.nanoTime();
          for (String uri : uris.subList(0, BURST)) {
            land(gateway, uri);
          }
          await().atMost(Duration.ofMinutes(4)).pollInterval(Duration.ofMillis(500)).until(() -> count(ledger,
              "SELECT COUNT(*) FROM sq_requests WHERE state = 'LANDED'") == BURST);
          double burstSeconds = seconds(burstT0);
          long listeners = count(ledger, NotifyCounter.LISTENERS_SQL);
          // the nodes' backends report their last statistics within 10 s; the LISTEN connections at their probe
          await().atMost(Duration.ofMinutes(2)).pollInterval(Duration.ofMillis(250))
              .until(() -> notifies.quietFor().compareTo(Duration.ofSeconds(12)) > 0);
          notifies.stopAndReport();
          OWN_TRANSACTIONS.incrementAndGet();
          long burstTransactions = xacts(ledger) - burstStart - (OWN_TRANSACTIONS.get() - ownAtStart);
          double perChange = (burstTransactions - idleRate * seconds(burstT0)) / BURST;
          double notifiesPerChange = (double) (notifies.received() - notifiesAtStart) / BURST;
          double deliveries = notifiesPerChange * (listeners + 1);
          System.out.printf("scale-out: %d changes landed in %.1f s at build budget 4: %.1f ledger transactions per"
              + " landed change (net of idle), of which Conveyor's own at least %.1f and PostgreSQL's deliveries of"
              + " its %.1f NOTIFYs to %d listening backends (%d of the fleet's, this test's counter) at most %.1f%n",
              BURST, burstSeconds, perChange, perChange - deliveries, notifiesPerChange, listeners + 1, listeners,
              deliveries);
          assertThat(listeners).as("listening backends: one per process with a ledger (3 nodes, 1 build worker)")
              .isBetween(1L, 4L);
          assertThat(notifiesPerChange).as("NOTIFYs per landed change").isLessThanOrEqualTo(8.0);
          assertThat(perChange).as("transactions per landed change: Conveyor's 50, and the NOTIFY deliveries")
              .isLessThanOrEqualTo(50.0 + deliveries);
          assertThat(perChange).as("transactions per landed change, everything PostgreSQL counts").isLessThanOrEqualTo(75.0);
        }
        int nodesThatChecked = 0;
        for (String node : nodes.keySet()) {
          if (checksOn(httpPort.get(node), token) > 0) {
            nodesThatChecked++;
          }
        }
        assertThat(nodesThatChecked).as("nodes whose Runway ran checks of the burst").isGreaterThanOrEqualTo(2);

        // --- a capture through node-c, which runs no capture worker: the others do the work
        Path table = dir.resolve("orders");
        SampleTable.write(table, 4, 1_000);
        ManagedChannel c = channel(grpcPort.get("node-c"), token);
        try {
          var control = ReconcileControlGrpc.newBlockingStub(c);
          control.registerTable(RegisterTableRequest.newBuilder().setTableId("shop.orders").setConnector(
              ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
                  .setLocation(table.toString())).build());
          String capture = control.startCapture(StartCaptureRequest.newBuilder().setTableId("shop.orders").build())
              .getJobId();
          await().atMost(Duration.ofMinutes(2)).until(() -> ledger.jobs().get(capture).state().isTerminal());
          assertThat(ledger.jobs().get(capture).state().name()).isEqualTo("SUCCEEDED");
          assertThat(count(ledger, "SELECT COUNT(*) FROM capture_stats WHERE table_id = 'shop.orders'"
              + " AND target_key LIKE 'file:%'")).isEqualTo(4);
        } finally {
          c.shutdownNow();
        }

        // --- kill the node holding the queue's merge partition, with two more changes on their way
        String holder = mergeOwner(ledger);
        String victim = nodes.keySet().stream().filter(n -> holder.endsWith("-" + nodes.get(n).pid()))
            .findFirst().orElseThrow();
        String survivorNode = nodes.keySet().stream().filter(n -> !n.equals(victim)).findFirst().orElseThrow();
        channel.shutdownNow();
        channel = channel(grpcPort.get(survivorNode), token);
        gateway = GatewayGrpc.newBlockingStub(channel);
        for (String uri : uris.subList(BURST, BURST + 2)) {
          land(gateway, uri);
        }
        nodes.get(victim).kill();
        long killedAt = System.nanoTime();
        await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100))
            .until(() -> !holder.equals(mergeOwner(ledger)));
        double takeover = seconds(killedAt);
        System.out.printf("scale-out: the queue's merge partition moved %.1f s after its node was killed%n",
            takeover);
        assertThat(takeover).as("seconds until a survivor holds the queue's merge partition").isLessThan(5.0);
        await().atMost(Duration.ofMinutes(2)).until(() -> count(ledger,
            "SELECT COUNT(*) FROM sq_requests WHERE state = 'LANDED'") == BURST + 2);
        boolean logged = false;
        for (String node : nodes.keySet()) {
          if (!node.equals(victim)) {
            logged |= Files.readAllLines(work.resolve(node + ".log")).stream().anyMatch(l ->
                l.matches(".* took \\S+\\[\\d+\\] of group \\S+ from \\S+-" + nodes.get(victim).pid()
                    + ", whose lease had lapsed \\d+ ms before"));
          }
        }
        assertThat(logged).as("a survivor's log names the takeover").isTrue();
        channel.shutdownNow();
      }
    } finally {
      for (ChildJvm w : workers) {
        w.close();
      }
      for (ChildJvm n : nodes.values()) {
        n.close();
      }
    }
  }

  private static ManagedChannel channel(int port, String token) {
    return NettyChannelBuilder.forAddress("127.0.0.1", port).usePlaintext()
        .intercept(new io.grpc.ClientInterceptor() {
          @Override
          public <Q, R> io.grpc.ClientCall<Q, R> interceptCall(io.grpc.MethodDescriptor<Q, R> method,
              io.grpc.CallOptions options, io.grpc.Channel next) {
            return next.newCall(method, options.withCallCredentials(new BearerCredentials(() -> token)));
          }
        }).build();
  }

  private static void land(GatewayGrpc.GatewayBlockingStub gateway, String uri) {
    gateway.land(LandRequest.newBuilder().setQueue("app").setChange(Change.newBuilder().addUris(uri)).build());
  }

  /** Who holds the partition of {@code submitqueue.merge} that queue app's messages go to. */
  private static String mergeOwner(Ledger ledger) {
    OWN_TRANSACTIONS.incrementAndGet();
    var config = Topics.registry().config(SubmitQueueTopics.MERGE);
    int partition = Partitioner.partition("app", config.partitions());
    return ledger.transact(tx -> tx.queryOne("SELECT owner FROM mq_group_partitions WHERE group_name ="
        + " 'submitqueue-merge' AND topic = ? AND partition_no = ?", rs -> rs.getString(1), config.wireName(),
        partition)).orElse("");
  }

  /** Runway checks this node ran, from its Prometheus metrics. */
  private static double checksOn(int httpPort, String token) throws Exception {
    HttpResponse<String> metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + httpPort + "/metrics")).header("Authorization", "Bearer " + token).build(),
        HttpResponse.BodyHandlers.ofString());
    double checks = 0;
    Matcher m = Pattern.compile("(?m)^conveyor_merge_seconds_count\\{[^}]*kind=\"check\"[^}]*\\} (\\S+)$")
        .matcher(metrics.body());
    while (m.find()) {
      checks += Double.parseDouble(m.group(1));
    }
    return checks;
  }

  /** Transactions committed or rolled back in this test's database so far. */
  private static long xacts(Ledger ledger) {
    OWN_TRANSACTIONS.incrementAndGet();
    return ledger.transact(tx -> tx.queryLong("SELECT xact_commit + xact_rollback FROM pg_stat_database"
        + " WHERE datname = current_database()"));
  }

  private static double seconds(long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1e9;
  }

  private static long count(Ledger ledger, String sql) {
    OWN_TRANSACTIONS.incrementAndGet();
    return ledger.transact(tx -> tx.queryLong(sql));
  }
}
