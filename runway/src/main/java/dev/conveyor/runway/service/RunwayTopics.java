package dev.conveyor.runway.service;

import dev.conveyor.messagequeue.topic.TopicKey;

/** Runway's contract topics (declared by the {@code topic_keys} options of merge.proto). */
public final class RunwayTopics {
  public static final TopicKey CHECK = TopicKey.of("runway.check");
  public static final TopicKey MERGE = TopicKey.of("runway.merge");
  public static final TopicKey CHECK_SIGNAL = TopicKey.of("runway.check.signal");
  public static final TopicKey MERGE_SIGNAL = TopicKey.of("runway.merge.signal");

  private RunwayTopics() {}

  /** The topic a request's result goes to: dry runs answer on the check signal, merges on the merge signal. */
  public static TopicKey signalOf(TopicKey requestTopic) {
    if (requestTopic.equals(CHECK)) {
      return CHECK_SIGNAL;
    }
    if (requestTopic.equals(MERGE)) {
      return MERGE_SIGNAL;
    }
    throw new IllegalArgumentException("'" + requestTopic + "' is not a Runway request topic");
  }
}
