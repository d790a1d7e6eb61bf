package dev.conveyor.bench;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.ledger.testing.NotifyCounter;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A merge queue on a fleet, the way the README starts one: {@code serve} nodes on one PostgreSQL sharing
 * a token file, each with its in-process build worker, and a burst of independent changes landed through
 * every node in turn. Run for one node and then for {@code --nodes} nodes; for each it prints landed/hour
 * and what the ledger paid: transactions and row writes per landed change, net of the fleet's idle cost
 * (measured first, over a quiet window). With more than one node it then kills (SIGKILL) the node holding
 * the queue's merge partition with changes in flight and prints the stall: when a survivor held the
 * partition and when the next change landed. A change lost or failed fails the run.
 */
final class SubmitQueueFleetBench {
  /** Bursts landed one after another on the same fleet: the cost per change must stay flat as the queue deepens. */
  private static final List<Integer> BURSTS = List.of(10, 200);
  private static final int AFTER_KILL = 6;
  /**
   * PostgreSQL backends may hold their statistics up to 10 s before pg_stat_database shows them; a LISTEN
   * connection until its probe, after 10 quiet seconds.
   */
  private static final long STATS_LAG_MS = 13_000;

  private SubmitQueueFleetBench() {}

  private record Figures(int nodes, int burst, double landedPerHour, double txPerChange, double writesPerChange,
      double idleTxPerNode, double notifyDeliveriesPerChange) {}

  static boolean run(BenchArgs a) throws Exception {
    Path root = Path.of(System.getProperty("conveyor.root", ".")).toAbsolutePath().normalize();
    System.out.printf("workload: bursts of %s independent changes on queue fleet, one after another (build = sleep %d ms,"
        + " build-budget 4, each node's build-parallelism 2), landed through every node in turn; PostgreSQL %s:%d%n",
        BURSTS, a.buildMs(), a.pgHost(), a.pgPort());
    boolean ok = true;
    List<Integer> sizes = a.nodes() == 1 ? List.of(1) : List.of(1, a.nodes());
    List<Figures> figures = new ArrayList<>();
    for (int n : sizes) {
      List<Figures> f = runFleet(a, root, n);
      ok &= f.size() == BURSTS.size();
      figures.addAll(f);
    }
    for (Figures f : figures) {
      System.out.printf("%d node(s), %3d changes: %,6.0f landed/hour | %5.1f transactions (at least) and %5.1f row writes"
          + " per landed change (target <= 50 transactions: %s), and %5.1f NOTIFY deliveries (at most) | idle %.1f transactions/s"
          + " per node (target <= 5: %s)%n", f.nodes(), f.burst(), f.landedPerHour(), f.txPerChange(),
          f.writesPerChange(), f.txPerChange() <= 50 ? "met" : "NOT met", f.notifyDeliveriesPerChange(),
          f.idleTxPerNode(), f.idleTxPerNode() <= 5 ? "met" : "NOT met");
    }
    return ok;
  }

  private static List<Figures> runFleet(BenchArgs a, Path root, int n) throws Exception {
    Path dir = Files.createTempDirectory("conveyor-fleet-bench");
    String jdbc = Pg.freshDatabase(a, "sqfleet" + n);
    List<ServeProcess> nodes = new ArrayList<>();
    List<ManagedChannel> channels = new ArrayList<>();
    List<Figures> figures = new ArrayList<>();
    try (Connection db = DriverManager.getConnection(jdbc, "postgres", "")) {
      GitOrigin git = GitOrigin.create(dir);
      Path tokenFile = dir.resolve("fleet-token");
      String settings = "ledger = " + Pg.ledgerUrl(jdbc) + "\ntoken-file = " + tokenFile + "\ncapture-worker = false\n"
          + "queue.fleet.remote = " + git.origin() + "\nqueue.fleet.build-command = sleep " + (a.buildMs() / 1000.0)
          + "\nqueue.fleet.build-budget = 4\n";
      for (int i = 0; i < n; i++) {
        ServeProcess node = ServeProcess.start(root, dir.resolve("node-" + (char) ('a' + i)), settings);
        nodes.add(node);
        node.awaitReady(tokenFile);
      }
      String token = LocalToken.read(tokenFile);
      List<GatewayGrpc.GatewayBlockingStub> gateways = new ArrayList<>();
      for (ServeProcess node : nodes) {
        ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", node.grpcPort()).usePlaintext().build();
        channels.add(channel);
        gateways.add(GatewayGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token)));
      }
      int total = BURSTS.stream().mapToInt(Integer::intValue).sum();
      List<String> uris = new ArrayList<>();
      for (int i = 0; i < total + AFTER_KILL; i++) {
        uris.add(git.pushChange(i));
      }
      Stats stats = new Stats(db);
      stats.awaitSettled(n, Duration.ofSeconds(90));

      // idle: after the start-up's statistics have arrived, a quiet window
      Thread.sleep(STATS_LAG_MS);
      long[] idle0 = stats.counters();
      long idleT0 = System.nanoTime();
      Thread.sleep(15_000);
      long[] idle1 = stats.counters();
      double idleSeconds = seconds(idleT0);
      double idleTx = (idle1[0] - idle0[0]) / idleSeconds;
      double idleWrites = (idle1[1] - idle0[1]) / idleSeconds;
      System.out.printf("%d node(s): idle ledger %.1f transactions/s (%.1f per node), %.1f row writes/s%n", n, idleTx,
          idleTx / n, idleWrites);

      int landedSoFar = 0;
      for (int burst : BURSTS) {
        // PostgreSQL wakes every LISTEN backend for every commit that NOTIFYs, one short transaction each, reported
        // when that backend next runs a statement (a LISTEN connection's probe, after 10 quiet seconds): the
        // figures wait that out and split those deliveries off (at most NOTIFYs x listening backends, this
        // counter's included: an upper bound, so Conveyor's own figure is a lower one).
        try (NotifyCounter notifies = new NotifyCounter(jdbc, NotifyCounter.CONVEYOR_CHANNELS)) {
          long[] burst0 = stats.counters();
          long burstT0 = System.nanoTime();
          for (int i = landedSoFar; i < landedSoFar + burst; i++) {
            gateways.get(i % n).withDeadlineAfter(30, TimeUnit.SECONDS).land(land(uris.get(i)));
          }
          landedSoFar += burst;
          if (!stats.awaitLanded(landedSoFar, Duration.ofMinutes(15))) {
            System.out.printf("%d node(s): FAILED after %d changes: %s%n", n, landedSoFar, stats.outcome());
            return figures;
          }
          double burstSeconds = seconds(burstT0);
          long listeners = stats.count(NotifyCounter.LISTENERS_SQL) + 1;
          Thread.sleep(STATS_LAG_MS); // the nodes' pool backends report their statistics
          while (notifies.quietFor().toMillis() < STATS_LAG_MS) { // and every LISTEN backend has probed since
            Thread.sleep(250); // a benchmark waits for the ledger's statistics; correctness never depends on it
          }
          notifies.stopAndReport();
          long[] burst1 = stats.counters();
          double elapsed = seconds(burstT0);
          double notifiesPerChange = (double) notifies.received() / burst;
          double deliveries = notifiesPerChange * listeners;
          double tx = (burst1[0] - burst0[0] - idleTx * elapsed) / burst - deliveries;
          double writes = (burst1[1] - burst0[1] - idleWrites * elapsed) / burst;
          System.out.printf("%d node(s): %d changes landed in %.1f s, %.1f transactions (at least) and %.1f row writes"
              + " each, and %.1f NOTIFYs each delivered to %d listening backends (at most %.1f transactions)%n", n, burst, burstSeconds,
              tx, writes, notifiesPerChange, listeners, deliveries);
          figures.add(new Figures(n, burst, burst / burstSeconds * 3600, tx, writes, idleTx / n, deliveries));
        }
      }
      if (n > 1) {
        failover(n, nodes, gateways, uris.subList(landedSoFar, landedSoFar + AFTER_KILL), landedSoFar, stats);
      }
      return figures;
    } finally {
      channels.forEach(ManagedChannel::shutdownNow);
      for (ServeProcess node : nodes) {
        node.close();
      }
      Shell.delete(dir);
    }
  }

  /** Kills the merge partition's holder with changes in flight; prints how long the queue stalled. */
  private static void failover(int n, List<ServeProcess> nodes, List<GatewayGrpc.GatewayBlockingStub> gateways,
      List<String> more, int landedBefore, Stats stats) throws Exception {
    String owner = stats.mergeOwner();
    int victim = -1;
    for (int i = 0; i < nodes.size(); i++) {
      if (owner.endsWith("-" + nodes.get(i).pid())) {
        victim = i;
      }
    }
    if (victim < 0) {
      throw new IllegalStateException("no node of the fleet holds the merge partition (owner " + owner + ")");
    }
    int survivor = (victim + 1) % n;
    for (String uri : more) {
      gateways.get(survivor).withDeadlineAfter(30, TimeUnit.SECONDS).land(land(uri));
    }
    int all = landedBefore + more.size();
    stats.awaitLanded(landedBefore + 1, Duration.ofMinutes(2)); // the queue is moving: kill its owner mid-flight
    long landedAtKill = stats.landed();
    nodes.get(victim).kill();
    long killedAt = System.nanoTime();
    double moved = Double.NaN;
    double nextLanding = Double.NaN;
    while (seconds(killedAt) < 120 && (Double.isNaN(moved) || Double.isNaN(nextLanding))) {
      if (Double.isNaN(moved) && !owner.equals(stats.mergeOwner())) {
        moved = seconds(killedAt);
      }
      if (Double.isNaN(nextLanding) && (stats.landed() > landedAtKill || landedAtKill == all)) {
        nextLanding = seconds(killedAt);
      }
      Thread.sleep(50); // a benchmark samples the ledger; correctness never depends on this pause
    }
    boolean landedAll = stats.awaitLanded(all, Duration.ofMinutes(3));
    System.out.printf("%d nodes: killed the merge partition's holder with %d changes in flight: a survivor held the"
        + " partition %.1f s later (target < 5 s: %s), the next change landed %.1f s later; all %d landed: %s%n", n,
        all - landedAtKill, moved, moved < 5 ? "met" : "NOT met", nextLanding, all,
        landedAll ? "yes" : "NO (" + stats.outcome() + ")");
    if (!landedAll) {
      throw new IllegalStateException("changes were lost after the kill: " + stats.outcome());
    }
  }

  private static LandRequest land(String uri) {
    return LandRequest.newBuilder().setQueue("fleet").setChange(Change.newBuilder().addUris(uri)).build();
  }

  private static double seconds(long sinceNanos) {
    return (System.nanoTime() - sinceNanos) / 1e9;
  }

  /** The bench's own reads of the ledger, which it takes out of the ledger's counters. */
  private static final class Stats {
    private final Connection db;
    private long own;

    Stats(Connection db) throws SQLException {
      this.db = db;
      db.setAutoCommit(true);
    }

    /** Transactions and row writes of the database so far, less the bench's own reads. */
    long[] counters() throws SQLException {
      long[] c = new long[2];
      try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT xact_commit + xact_rollback,"
          + " tup_inserted + tup_updated + tup_deleted FROM pg_stat_database WHERE datname = current_database()")) {
        rs.next();
        c[0] = rs.getLong(1) - own;
        c[1] = rs.getLong(2);
      }
      own++;
      return c;
    }

    long count(String sql) throws SQLException {
      own++;
      try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery(sql)) {
        rs.next();
        return rs.getLong(1);
      }
    }

    long landed() throws SQLException {
      return count("SELECT COUNT(*) FROM sq_requests WHERE state = 'LANDED'");
    }

    String outcome() throws SQLException {
      own++;
      StringBuilder out = new StringBuilder();
      try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT state, COUNT(*) FROM sq_requests"
          + " GROUP BY state ORDER BY state")) {
        while (rs.next()) {
          out.append(rs.getString(1)).append('=').append(rs.getLong(2)).append(' ');
        }
      }
      return out.toString().trim();
    }

    boolean awaitLanded(long wanted, Duration max) throws Exception {
      long deadline = System.nanoTime() + max.toNanos();
      while (System.nanoTime() < deadline) {
        if (landed() >= wanted) {
          return true;
        }
        if (count("SELECT COUNT(*) FROM sq_requests WHERE state IN ('ERROR', 'CANCELLED')") > 0) {
          return false;
        }
        Thread.sleep(500); // a benchmark polls the ledger for completion; correctness never depends on this pause
      }
      return false;
    }

    /** Until every partition of every group is held and the fleet's every node holds some. */
    void awaitSettled(int nodes, Duration max) throws Exception {
      long deadline = System.nanoTime() + max.toNanos();
      while (count("SELECT COUNT(*) FROM mq_group_partitions WHERE owner IS NULL") > 0
          || count("SELECT COUNT(DISTINCT owner) FROM mq_group_partitions") < nodes) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("the fleet did not settle in " + max);
        }
        Thread.sleep(500);
      }
    }

    /** Who holds the merge partition that queue fleet's messages went to (the one group partition with progress). */
    String mergeOwner() throws SQLException {
      own++;
      LinkedHashSet<String> owners = new LinkedHashSet<>();
      try (Statement s = db.createStatement(); ResultSet rs = s.executeQuery("SELECT COALESCE(owner, '') FROM"
          + " mq_group_partitions WHERE group_name = 'submitqueue-merge' AND committed_seq > 0")) {
        while (rs.next()) {
          owners.add(rs.getString(1));
        }
      }
      if (owners.size() != 1) {
        throw new IllegalStateException("expected one merge partition with progress, found owners " + owners);
      }
      return owners.iterator().next();
    }
  }
}
