package dev.conveyor.ledger.jobs;

import java.time.Duration;
import java.util.Objects;

/** What to enqueue. Build with {@link #builder(JobKind)}; validation happens before anything is written. */
public record JobSpec(
    JobKind kind,
    String executionClass,
    String lane,
    String laneKey,
    String pinnedExecutorId,
    String dedupeKey,
    byte[] payload,
    int maxAttempts,
    Duration delay,
    boolean afterSiblings) {

  public static final String DEFAULT_CLASS = "default";
  public static final String DEFAULT_LANE = "default";
  public static final int DEFAULT_MAX_ATTEMPTS = 5;

  public JobSpec {
    Objects.requireNonNull(kind, "kind");
    executionClass = requireName("execution_class", executionClass == null ? DEFAULT_CLASS : executionClass, 128);
    lane = requireName("lane", lane == null ? DEFAULT_LANE : lane, 128);
    if (lane.equals("*")) {
      throw new IllegalArgumentException("lane '*' is a lease wildcard and cannot name a job's lane");
    }
    laneKey = optionalName("lane_key", laneKey, 512);
    pinnedExecutorId = optionalName("pinned_executor_id", pinnedExecutorId, 256);
    dedupeKey = optionalName("dedupe_key", dedupeKey, 512);
    payload = payload == null ? new byte[0] : payload;
    if (maxAttempts < 1) {
      throw new IllegalArgumentException("max_attempts must be at least 1, got " + maxAttempts);
    }
    delay = delay == null ? Duration.ZERO : delay;
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
  }

  private static String requireName(String field, String value, int maxLength) {
    if (value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be empty");
    }
    if (value.length() > maxLength) {
      throw new IllegalArgumentException(field + " is longer than " + maxLength + " characters");
    }
    return value;
  }

  private static String optionalName(String field, String value, int maxLength) {
    return value == null ? null : requireName(field, value, maxLength);
  }

  public static Builder builder(JobKind kind) {
    return new Builder(kind);
  }

  public static final class Builder {
    private final JobKind kind;
    private String executionClass;
    private String lane;
    private String laneKey;
    private String pinnedExecutorId;
    private String dedupeKey;
    private byte[] payload;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration delay;
    private boolean afterSiblings;

    private Builder(JobKind kind) {
      this.kind = kind;
    }

    public Builder executionClass(String v) {
      this.executionClass = v;
      return this;
    }

    public Builder lane(String v) {
      this.lane = v;
      return this;
    }

    public Builder laneKey(String v) {
      this.laneKey = v;
      return this;
    }

    public Builder pinnedExecutorId(String v) {
      this.pinnedExecutorId = v;
      return this;
    }

    public Builder dedupeKey(String v) {
      this.dedupeKey = v;
      return this;
    }

    public Builder payload(byte[] v) {
      this.payload = v;
      return this;
    }

    public Builder maxAttempts(int v) {
      this.maxAttempts = v;
      return this;
    }

    public Builder delay(Duration v) {
      this.delay = v;
      return this;
    }

    /**
     * Makes this child a continuation: leasable only once every ordinary sibling is terminal, and
     * cancelled instead if one of them failed or was cancelled.
     */
    public Builder afterSiblings() {
      this.afterSiblings = true;
      return this;
    }

    public JobSpec build() {
      return new JobSpec(kind, executionClass, lane, laneKey, pinnedExecutorId, dedupeKey, payload, maxAttempts, delay,
          afterSiblings);
    }
  }
}
