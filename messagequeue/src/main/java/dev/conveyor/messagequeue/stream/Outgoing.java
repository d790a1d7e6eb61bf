package dev.conveyor.messagequeue.stream;

import dev.conveyor.messagequeue.topic.TopicKey;

/** A message to publish as part of a batch. */
public record Outgoing(TopicKey topic, String partitionKey, String messageId, byte[] payload) {}
