package dev.conveyor.app.wiring;

import dev.conveyor.api.Contracts;
import dev.conveyor.api.TopicKeys;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;

/**
 * Every topic this build of Conveyor knows. Contract topics are registered from the
 * {@code topic_keys} options in {@code api}, so an option naming a key twice fails at startup.
 */
public final class Topics {
  private Topics() {}

  public static TopicRegistry registry() {
    TopicRegistry.Builder builder = TopicRegistry.builder();
    for (var message : TopicKeys.boundMessages(Contracts.files())) {
      for (String key : TopicKeys.of(message)) {
        builder.register(TopicKey.of(key));
      }
    }
    return builder.build();
  }
}
