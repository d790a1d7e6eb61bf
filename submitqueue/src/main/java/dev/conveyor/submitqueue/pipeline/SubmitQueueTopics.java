package dev.conveyor.submitqueue.pipeline;

import dev.conveyor.messagequeue.topic.TopicKey;
import java.util.List;

/** SubmitQueue's stage topics (declared by the topic_keys options of pipeline.proto). */
public final class SubmitQueueTopics {
  public static final TopicKey START = TopicKey.of("submitqueue.start");
  public static final TopicKey VALIDATE = TopicKey.of("submitqueue.validate");
  public static final TopicKey BATCH = TopicKey.of("submitqueue.batch");
  public static final TopicKey CANCEL = TopicKey.of("submitqueue.cancel");
  public static final TopicKey SPECULATE = TopicKey.of("submitqueue.speculate");
  public static final TopicKey MERGE = TopicKey.of("submitqueue.merge");
  public static final TopicKey CONCLUDE = TopicKey.of("submitqueue.conclude");
  public static final TopicKey BUILDSIGNAL = TopicKey.of("submitqueue.buildsignal");

  public static final List<TopicKey> REQUEST_SCOPED = List.of(START, VALIDATE, BATCH, CANCEL);
  public static final List<TopicKey> BATCH_SCOPED = List.of(SPECULATE, MERGE, CONCLUDE, BUILDSIGNAL);

  private SubmitQueueTopics() {}
}
