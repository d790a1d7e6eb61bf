package dev.conveyor.messagequeue.topic;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Maps logical topic keys to wire topics and their configuration. Built once at startup; a
 * duplicate key or a wire name claimed twice fails then, not at first publish.
 */
public final class TopicRegistry {
  private final Map<TopicKey, TopicConfig> byKey;
  private final Map<String, TopicKey> byWire;

  private TopicRegistry(Map<TopicKey, TopicConfig> byKey, Map<String, TopicKey> byWire) {
    this.byKey = Map.copyOf(byKey);
    this.byWire = Map.copyOf(byWire);
  }

  public static Builder builder() {
    return new Builder();
  }

  public TopicConfig config(TopicKey key) {
    TopicConfig c = byKey.get(key);
    if (c == null) {
      throw new IllegalArgumentException("topic key '" + key + "' is not registered; known keys: " + byKey.keySet());
    }
    return c;
  }

  public Optional<TopicKey> keyOfWire(String wireName) {
    return Optional.ofNullable(byWire.get(wireName));
  }

  /** The config of a wire topic, including dead-letter topics (one partition, never dead-lettered again). */
  public Optional<TopicConfig> configOfWire(String wireName) {
    TopicKey key = byWire.get(wireName);
    if (key != null) {
      return Optional.of(byKey.get(key));
    }
    if (wireName.endsWith(".dlq")) {
      return keyOfWire(wireName.substring(0, wireName.length() - 4)).map(k -> dlqConfig(byKey.get(k)));
    }
    return Optional.empty();
  }

  /** A dead-letter topic: one partition, and its messages are never dead-lettered again. */
  static TopicConfig dlqConfig(TopicConfig of) {
    return new TopicConfig(of.dlqWireName(), 1, Integer.MAX_VALUE, of.visibilityTimeout(), of.retention());
  }

  public boolean contains(TopicKey key) {
    return byKey.containsKey(key);
  }

  public Collection<TopicKey> keys() {
    return byKey.keySet();
  }

  public Map<TopicKey, TopicConfig> all() {
    return byKey;
  }

  public static final class Builder {
    private final Map<TopicKey, TopicConfig> byKey = new LinkedHashMap<>();
    private final Map<String, TopicKey> byWire = new LinkedHashMap<>();

    public Builder register(TopicKey key, TopicConfig config) {
      if (config.wireName().endsWith(".dlq")) {
        throw new IllegalStateException("wire topic '" + config.wireName() + "' of '" + key
            + "' ends in .dlq, which dead-letter topics own");
      }
      if (byKey.containsKey(key)) {
        throw new IllegalStateException("topic key '" + key + "' is registered twice");
      }
      TopicKey other = byWire.get(config.wireName());
      if (other != null) {
        throw new IllegalStateException("wire topic '" + config.wireName() + "' is claimed by both '" + other
            + "' and '" + key + "'");
      }
      byKey.put(key, config);
      byWire.put(config.wireName(), key);
      return this;
    }

    /** Registers a key whose wire name is the key itself, with default settings. */
    public Builder register(TopicKey key) {
      return register(key, TopicConfig.defaults(key.value()));
    }

    public TopicRegistry build() {
      return new TopicRegistry(byKey, byWire);
    }
  }
}
