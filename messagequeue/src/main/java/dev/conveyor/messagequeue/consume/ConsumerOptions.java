package dev.conveyor.messagequeue.consume;

import java.time.Duration;

/**
 * How one member of a consumer group runs: its identity, how many partitions it works on at
 * once, how many messages it fetches per delivery, how long its partitions stay its own after its
 * last heartbeat ({@code leaseTtl}: a dead member's partitions move after about this long; the
 * heartbeat comes every third of it, at most every second), and the nack backoff.
 */
public record ConsumerOptions(String group, String memberId, int parallelism, int batchSize, Duration leaseTtl,
    Duration nackBackoff, Duration maxNackBackoff) {

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
    if (leaseTtl.toMillis() < 150) {
      throw new IllegalArgumentException("lease TTL must be at least 150 ms, got " + leaseTtl.toMillis() + " ms");
    }
  }

  /** Short, so a dead node's partitions move within seconds; cheap, because one heartbeat renews them all. */
  public static final Duration DEFAULT_LEASE_TTL = Duration.ofSeconds(3);

  public static ConsumerOptions defaults(String group, String memberId) {
    return new ConsumerOptions(group, memberId, 4, 64, DEFAULT_LEASE_TTL, Duration.ofMillis(200),
        Duration.ofSeconds(60));
  }

  public ConsumerOptions withParallelism(int n) {
    return new ConsumerOptions(group, memberId, n, batchSize, leaseTtl, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withBatchSize(int n) {
    return new ConsumerOptions(group, memberId, parallelism, n, leaseTtl, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withLeaseTtl(Duration d) {
    return new ConsumerOptions(group, memberId, parallelism, batchSize, d, nackBackoff, maxNackBackoff);
  }

  public ConsumerOptions withNackBackoff(Duration initial, Duration max) {
    return new ConsumerOptions(group, memberId, parallelism, batchSize, leaseTtl, initial, max);
  }

  Duration backoff(int attempt) {
    long ms = nackBackoff.toMillis() << Math.min(20, Math.max(0, attempt - 1));
    return Duration.ofMillis(Math.min(ms, maxNackBackoff.toMillis()));
  }
}
