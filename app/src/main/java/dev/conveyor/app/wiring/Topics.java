package dev.conveyor.app.wiring;

import dev.conveyor.api.Contracts;
import dev.conveyor.api.TopicKeys;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;

/**
 * Every topic this build of Conveyor knows. Contract topics are registered from the
 * {@code topic_keys} options in {@code api}, so an option naming a key twice fails at startup.
 */
public final class Topics {
  private Topics() {}

  public static TopicRegistry registry() {
    return registry(null);
  }

  /** Every topic, keeping committed messages for {@code retention} ({@code retention.messages}; null: the default). */
  public static TopicRegistry registry(java.time.Duration retention) {
    TopicRegistry.Builder builder = TopicRegistry.builder();
    for (var message : TopicKeys.boundMessages(Contracts.files())) {
      for (String key : TopicKeys.of(message)) {
        TopicConfig config = TopicConfig.defaults(key);
        builder.register(TopicKey.of(key), retention == null ? config : config.withRetention(retention));
      }
    }
    return builder.build();
  }
}
