package dev.conveyor.messagequeue.topic;

import java.time.Duration;
import java.util.regex.Pattern;

/**
 * How a topic is stored and consumed: its wire name, partition count, delivery attempts before
 * dead-lettering, the visibility timeout of an in-flight message, and how long acked messages
 * are retained (for dedupe and replay) before garbage collection.
 */
public record TopicConfig(String wireName, int partitions, int maxAttempts, Duration visibilityTimeout,
    Duration retention) {
  private static final Pattern WIRE = Pattern.compile("[a-z0-9][a-z0-9._-]{0,200}");

  public static final int DEFAULT_PARTITIONS = 16;

  public TopicConfig {
    if (wireName == null || !WIRE.matcher(wireName).matches()) {
      throw new IllegalArgumentException("wire topic name '" + wireName
          + "' must be lower-case letters, digits, '.', '_' or '-' (at most 200)");
    }
    if (partitions < 1 || partitions > 1024) {
      throw new IllegalArgumentException("partitions must be between 1 and 1024, got " + partitions);
    }
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("max attempts must be at least 1, got " + maxAttempts);
    }
    if (visibilityTimeout.isNegative() || visibilityTimeout.isZero() || retention.isNegative()) {
      throw new IllegalArgumentException("visibility timeout must be positive and retention not negative");
    }
  }

  public static TopicConfig defaults(String wireName) {
    return new TopicConfig(wireName, DEFAULT_PARTITIONS, 5, Duration.ofSeconds(60), Duration.ofDays(7));
  }

  public TopicConfig withPartitions(int n) {
    return new TopicConfig(wireName, n, maxAttempts, visibilityTimeout, retention);
  }

  public TopicConfig withMaxAttempts(int n) {
    return new TopicConfig(wireName, partitions, n, visibilityTimeout, retention);
  }

  public TopicConfig withVisibilityTimeout(Duration d) {
    return new TopicConfig(wireName, partitions, maxAttempts, d, retention);
  }

  public TopicConfig withRetention(Duration d) {
    return new TopicConfig(wireName, partitions, maxAttempts, visibilityTimeout, d);
  }

  /** The dead-letter topic of this topic: one partition, ordered by death. */
  public String dlqWireName() {
    return wireName + ".dlq";
  }
}
