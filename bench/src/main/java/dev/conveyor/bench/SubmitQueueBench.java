package dev.conveyor.bench;

import dev.conveyor.api.Contracts;
import dev.conveyor.api.TopicKeys;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.runway.service.RunwayService;
import dev.conveyor.submitqueue.build.BuildWorker;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueueConfig.ConflictAnalyzer;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.pipeline.SubmitQueuePipeline;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * 100 land requests on a real repository (10 conflicting pairs, 10 broken changes, 70 independent),
 * a build that sleeps a fixed time: landed requests per hour for a serial queue and for speculation
 * with build budgets 1, 4 and 8, each next to its floor: every change that must be built (all but the
 * second of each conflicting pair) built once, B at a time, plus one merge and push per landed change
 * at the median measured here, one after another ({@code ceil(builds / B) x build + landed x merge}).
 */
final class SubmitQueueBench {
  private static final int REQUESTS = 100;
  private static final int PAIRS = 10;
  private static final int BROKEN = 10;

  private SubmitQueueBench() {}

  private record Mode(String name, ConflictAnalyzer analyzer, int budget, int batchSize, String key) {}

  private record Result(int landed, int failed, double seconds, boolean green, long builds) {}

  static void run(BenchArgs args) throws Exception {
    long buildMs = args.buildMs();
    Path root = Files.createTempDirectory("submitqueue-bench");
    try {
      Path origin = root.resolve("origin.git");
      List<String> uris = createRepository(root, origin);
      Path build = root.resolve("build.sh");
      // each broken change adds a BROKEN-<n> file of its own: broken changes do not touch one another's paths
      Files.writeString(build, "sleep " + (buildMs / 1000.0) + "\nfor f in BROKEN-*; do [ -e \"$f\" ] && exit 3; done\n"
          + "exit 0\n");
      System.out.printf("workload: %d requests (%d conflicting pairs, %d broken, %d independent), build = sleep %d ms,"
          + " ledger SQLite%n", REQUESTS, PAIRS, BROKEN, REQUESTS - 2 * PAIRS - BROKEN, buildMs);
      int good = REQUESTS - PAIRS - BROKEN;
      int builds = REQUESTS - PAIRS;
      double mergeSeconds = medianMergeSeconds(root, origin, uris);
      System.out.printf("floor per budget B: ceil(%d builds / B) x %.1f s + %d merges x %.3f s (one merge and push,"
          + " median of %d measured here)%n", builds, buildMs / 1000.0, good, mergeSeconds, MERGE_SAMPLES);
      List<Mode> modes = new ArrayList<>(List.of(new Mode("serial (one at a time)", ConflictAnalyzer.SERIAL, 1, 1,
          "serial")));
      for (String m : args.modes()) {
        if (m.startsWith("b")) {
          modes.add(new Mode("budget 4, batches of " + m.substring(1), ConflictAnalyzer.PATHS, 4,
              Integer.parseInt(m.substring(1)), m));
        } else if (!m.equals("serial")) {
          modes.add(new Mode("speculative, budget " + m, ConflictAnalyzer.PATHS, Integer.parseInt(m), 1, m));
        }
      }
      double serialRate = 0;
      double budget4OverFloor = Double.NaN;
      double budget4Rate = Double.NaN;
      double bestBatchedRate = Double.NaN;
      double bestBatchedBuilds = Double.NaN;
      for (Mode mode : modes) {
        if (!args.modes().contains(mode.key())) {
          continue; // --modes left it out
        }
        Result r = runOnce(root, origin, build, uris, mode, buildMs);
        double rate = r.landed() / r.seconds() * 3600;
        if (mode.analyzer() == ConflictAnalyzer.SERIAL) {
          serialRate = rate;
        }
        double floor = Math.ceil(builds / (double) mode.budget()) * buildMs / 1000.0 + good * mergeSeconds;
        if (mode.analyzer() != ConflictAnalyzer.SERIAL && mode.budget() == 4 && mode.batchSize() == 1) {
          budget4OverFloor = r.seconds() / floor;
          budget4Rate = rate;
        }
        double buildsPerLanded = r.builds() / (double) Math.max(1, r.landed());
        if (mode.batchSize() > 1 && (Double.isNaN(bestBatchedRate) || rate > bestBatchedRate)) {
          bestBatchedRate = rate;
          bestBatchedBuilds = buildsPerLanded;
        }
        System.out.printf("%-26s landed %3d, failed %3d in %6.1f s (floor %5.1f s, %.2fx) -> %,7.0f landed/hour"
            + " (%s serial), %.2f builds per landed change, target green: %s%n", mode.name(), r.landed(), r.failed(),
            r.seconds(), floor, r.seconds() / floor, rate,
            serialRate == 0 ? "n/a x" : String.format("%.2fx", rate / serialRate), buildsPerLanded,
            r.green() ? "yes" : "NO");
      }
      System.out.println("the floor is the unbatched one (one build per non-conflicting request); batches may beat it");
      if (!Double.isNaN(budget4OverFloor)) {
        System.out.printf("targets: budget 4 within 1.5x of its floor: %s (%.2fx); no broken change on the target%n",
            budget4OverFloor <= 1.5 ? "met" : "NOT met", budget4OverFloor);
      }
      if (!Double.isNaN(budget4Rate) && !Double.isNaN(bestBatchedRate)) {
        System.out.printf("targets: batches >= 2x the landed/hour of budget 4 unbatched: %s (%.2fx); fewer than 0.5"
            + " builds per landed change: %s (%.2f)%n", bestBatchedRate >= 2 * budget4Rate ? "met" : "NOT met",
            bestBatchedRate / budget4Rate, bestBatchedBuilds < 0.5 ? "met" : "NOT met", bestBatchedBuilds);
      }
    } finally {
      Shell.delete(root);
    }
  }

  private static final int MERGE_SAMPLES = 5;

  /**
   * Where the requests' time went: for each state, the median time a request stayed in it (from the
   * request log), so a slow stage shows as a long stay before the state that follows it.
   */
  private static String timeInStates(Ledger ledger) {
    List<String[]> rows = ledger.read(tx -> tx.query("SELECT request_id, state, at FROM sq_request_log"
        + " ORDER BY request_id, seq", rs -> new String[] {rs.getString(1), rs.getString(2), rs.getString(3)}));
    java.util.Map<String, List<Long>> stays = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < rows.size(); i++) {
      if (rows.get(i)[0].equals(rows.get(i + 1)[0])) {
        stays.computeIfAbsent(rows.get(i)[1], k -> new ArrayList<>())
            .add(Long.parseLong(rows.get(i + 1)[2]) - Long.parseLong(rows.get(i)[2]));
      }
    }
    StringBuilder out = new StringBuilder("median ms in state:");
    stays.forEach((state, ms) -> {
      Collections.sort(ms);
      out.append(' ').append(state).append('=').append(ms.get(ms.size() / 2));
    });
    // when the queue reached each state: the seconds after the first land by which a quarter, half, ... of
    // the requests that reached it had, so a stage that drains slowly shows as a late, spread-out state
    long first = rows.stream().mapToLong(r -> Long.parseLong(r[2])).min().orElse(0);
    java.util.Map<String, List<Long>> reached = new java.util.LinkedHashMap<>();
    for (String[] r : rows) {
      reached.computeIfAbsent(r[1], k -> new ArrayList<>()).add(Long.parseLong(r[2]) - first);
    }
    out.append(System.lineSeparator()).append("  s after the first land by which 25/50/75/100% reached:");
    reached.forEach((state, ms) -> {
      Collections.sort(ms);
      out.append(String.format(" %s=%.1f/%.1f/%.1f/%.1f", state, ms.get(ms.size() / 4) / 1e3, ms.get(ms.size() / 2) / 1e3,
          ms.get(ms.size() * 3 / 4) / 1e3, ms.get(ms.size() - 1) / 1e3));
    });
    return out.toString();
  }

  /** One merge and push of one change by Runway's merger, on a copy of the origin: the median of a few. */
  private static double medianMergeSeconds(Path root, Path origin, List<String> uris) throws Exception {
    Path dir = Files.createDirectories(root.resolve("merge-sample"));
    Path target = Shell.copy(origin, dir.resolve("origin.git"));
    var queues = RunwayQueues.of(QueueConfig.of("bench", target.toString(), "main", Strategy.REBASE));
    List<Double> seconds = new ArrayList<>();
    try (GitMerger merger = new GitMerger(new RepositoryCache(dir.resolve("cache")), Clock.systemUTC())) {
      for (int k = 0; k <= MERGE_SAMPLES; k++) { // the first warms the cache and the JIT: not a sample
        String wanted = "/change-" + (2 * PAIRS + BROKEN + k) + "@";
        String uri = uris.stream().filter(u -> u.contains(wanted)).findFirst()
            .orElseThrow(); // an independent change: each sample merges cleanly onto the one before
        MergeRequest request = MergeRequest.newBuilder().setId("sample-" + k).setQueueName("bench")
            .addSteps(MergeStep.newBuilder().setStepId("s").setStrategy(Strategy.REBASE)
                .setChange(Change.newBuilder().addUris(uri))).build();
        long t0 = System.nanoTime();
        MergeOutcome outcome = merger.merge(MergePlans.plan(request, queues, false));
        if (!(outcome instanceof MergeOutcome.Succeeded)) {
          throw new IllegalStateException("sample merge of " + uri + " failed: " + outcome);
        }
        if (k > 0) {
          seconds.add((System.nanoTime() - t0) / 1e9);
        }
      }
    }
    Collections.sort(seconds);
    return seconds.get(seconds.size() / 2);
  }

  /** Origin with one file per independent change and one shared file per conflicting pair; change branches pushed. */
  private static List<String> createRepository(Path root, Path origin) throws Exception {
    Path work = root.resolve("work");
    Shell.git(root, "init", "-q", "--bare", "-b", "main", origin.toString());
    Shell.git(root, "init", "-q", "-b", "main", work.toString());
    for (int i = 0; i < REQUESTS; i++) {
      Files.writeString(work.resolve("file-" + i + ".txt"), "line one\nline two\n");
    }
    Shell.git(work, "add", "-A");
    Shell.git(work, "commit", "-q", "-m", "initial");
    List<String> uris = new ArrayList<>();
    for (int i = 0; i < REQUESTS; i++) {
      Shell.git(work, "checkout", "-q", "-B", "change-" + i, "main");
      if (i < 2 * PAIRS) {
        Files.writeString(work.resolve("file-" + (i / 2) + ".txt"), "pair " + i + " was here\nline two\n");
      } else {
        Files.writeString(work.resolve("file-" + i + ".txt"), "change " + i + "\nline two\n");
        if (i < 2 * PAIRS + BROKEN) {
          Files.writeString(work.resolve("BROKEN-" + i), "this change breaks the build\n");
        }
      }
      Shell.git(work, "add", "-A");
      Shell.git(work, "commit", "-q", "-m", "change " + i);
      uris.add("change://origin/refs/heads/change-" + i + "@" + Shell.git(work, "rev-parse", "HEAD"));
    }
    Shell.git(work, "push", "-q", origin.toString(), "--all");
    List<String> order = new ArrayList<>(uris);
    Collections.shuffle(order, new Random(42));
    return order;
  }

  private static Result runOnce(Path root, Path origin, Path build, List<String> uris, Mode mode, long buildMs)
      throws Exception {
    String tag = mode.analyzer() + "-" + mode.budget() + "-" + mode.batchSize();
    Path dir = Files.createDirectories(root.resolve(tag));
    Path target = Shell.copy(origin, dir.resolve("origin.git"));
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("ledger.db"))) {
      TopicRegistry.Builder topics = TopicRegistry.builder();
      for (var message : TopicKeys.boundMessages(Contracts.files())) {
        for (String key : TopicKeys.of(message)) {
          topics.register(TopicKey.of(key), TopicConfig.defaults(key).withPartitions(4));
        }
      }
      SubmitQueues queues = SubmitQueues.of(new SubmitQueueConfig(QueueConfig.of("bench", target.toString(), "main",
          Strategy.REBASE), Files.readString(build), Duration.ofMinutes(5), mode.budget(), mode.analyzer(), 0.8)
          .withBatching(mode.batchSize(), Duration.ofSeconds(mode.batchSize() > 1 ? 1 : 0)));
      ConsumerOptions options = ConsumerOptions.defaults("x", "bench");
      try (Streams streams = new Streams(ledger, topics.build());
          GitMerger merger = new GitMerger(new RepositoryCache(dir.resolve("cache")), Clock.systemUTC());
          RunwayService runway = RunwayService.start(streams, merger, queues.runway(), options);
          SubmitQueuePipeline pipeline = SubmitQueuePipeline.start(streams, queues, merger, options,
              StageDecorator.NONE);
          BuildWorker builds = new BuildWorker(ledger, pipeline.context().signals(), queues,
              new GitMerger(new RepositoryCache(dir.resolve("build-cache")), Clock.systemUTC()),
              BuildWorker.Options.defaults("bench-builds", dir.resolve("builds")).withParallelism(8)
                  .withIdlePoll(Duration.ofMillis(50))).start()) {
        long t0 = System.nanoTime();
        var admission = pipeline.admission();
        for (String uri : uris) {
          ledger.transact(tx -> admission.land(tx, "bench", List.of(uri), Strategy.DEFAULT));
        }
        long open;
        do {
          // a benchmark polls the ledger for completion; correctness never depends on this pause
          Thread.sleep(200);
          open = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_requests WHERE state NOT IN"
              + " ('LANDED', 'ERROR', 'CANCELLED')"));
        } while (open > 0 && System.nanoTime() - t0 < Duration.ofMinutes(30).toNanos());
        double seconds = (System.nanoTime() - t0) / 1e9;
        long landed = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_requests WHERE state = 'LANDED'"));
        long failed = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_requests WHERE state = 'ERROR'"));
        boolean green = !Shell.git(target, "log", "--name-only", "--format=", "main").contains("BROKEN");
        // a build job whose speculative tree could not be made (a conflict) ran no build command
        long buildsRun = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = 'BUILD'"
            + " AND started_at IS NOT NULL AND (last_error IS NULL OR last_error NOT LIKE 'conflict:%')"));
        System.out.println("  " + timeInStates(ledger));
        return new Result((int) landed, (int) failed, seconds, green, buildsRun);
      }
    }
  }
}
