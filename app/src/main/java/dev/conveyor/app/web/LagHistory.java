package dev.conveyor.app.web;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Each topic's consumer lag over the last hour, for its page: sampled every {@value #INTERVAL_MS} ms by the web
 * server while the node runs (one small ledger read), kept in memory only ({@value #SAMPLES} samples per topic,
 * at most {@value #MAX_TOPICS} topics), so it starts empty on each node start.
 */
final class LagHistory {
  static final long INTERVAL_MS = 10_000;
  static final int SAMPLES = 360;
  static final int MAX_TOPICS = 500;

  /** One sample: when, and each group's lag. */
  record Sample(long atMs, Map<String, Long> lagByGroup) {}

  private final Map<String, Deque<Sample>> byTopic = new LinkedHashMap<>();

  synchronized void record(long atMs, Map<String, Map<String, Long>> lags) {
    for (var e : lags.entrySet()) {
      Deque<Sample> samples = byTopic.get(e.getKey());
      if (samples == null) {
        if (byTopic.size() >= MAX_TOPICS) {
          continue;
        }
        samples = new ArrayDeque<>();
        byTopic.put(e.getKey(), samples);
      }
      samples.addLast(new Sample(atMs, Map.copyOf(e.getValue())));
      while (samples.size() > SAMPLES) {
        samples.removeFirst();
      }
    }
  }

  synchronized List<Sample> of(String topic) {
    Deque<Sample> samples = byTopic.get(topic);
    return samples == null ? List.of() : new ArrayList<>(samples);
  }
}
