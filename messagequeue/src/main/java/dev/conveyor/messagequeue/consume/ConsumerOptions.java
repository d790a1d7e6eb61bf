package dev.conveyor.messagequeue.consume;

import java.time.Duration;

/**
 * How one member of a consumer group runs: its identity, how many partitions it works on at
 * once, how many messages it fetches per delivery, its partition-lease length, how often it
 * polls when no wake-up arrives, and the nack backoff.
 */
public record ConsumerOptions(String group, String memberId, int parallelism, int batchSize, Duration leaseTtl,
    Duration pollInterval, Duration nackBackoff, Duration maxNackBackoff) {

  public ConsumerOptions {
    if (group == null || group.isBlank()) {
      throw new IllegalArgumentException("consumer group must not be empty");
    }
    if (memberId == null || memberId.isBlank()) {
      throw new IllegalArgumentException("member id must not be empty");
    }
    if (parallelism < 1 || batchSize < 1) {
      throw new IllegalArgumentException("parallelism and batch size must be at least 1");
    }
  }

  public static ConsumerOptions defaults(String group, String memberId) {
    return new ConsumerOptions(group, memberId, 4, 64, Duration.ofSeconds(15), Duration.ofMillis(500),
        Duration.ofMillis(200), Duration.ofSeconds(60));
  }

  public ConsumerOptions withParallelism(int n) {
    return new ConsumerOptions(group, memberId, n, batchSize, leaseTtl, pollInterval, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withBatchSize(int n) {
    return new ConsumerOptions(group, memberId, parallelism, n, leaseTtl, pollInterval, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withLeaseTtl(Duration d) {
    return new ConsumerOptions(group, memberId, parallelism, batchSize, d, pollInterval, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withPollInterval(Duration d) {
    return new ConsumerOptions(group, memberId, parallelism, batchSize, leaseTtl, d, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withNackBackoff(Duration initial, Duration max) {
    return new ConsumerOptions(group, memberId, parallelism, batchSize, leaseTtl, pollInterval, initial, max);
  }

  Duration backoff(int attempt) {
    long ms = nackBackoff.toMillis() << Math.min(20, Math.max(0, attempt - 1));
    return Duration.ofMillis(Math.min(ms, maxNackBackoff.toMillis()));
  }
}
