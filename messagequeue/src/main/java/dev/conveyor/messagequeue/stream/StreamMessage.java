package dev.conveyor.messagequeue.stream;

import java.time.Instant;

/** One committed message of a topic partition. */
public record StreamMessage(String topic, int partition, long seq, String messageId, String partitionKey,
    byte[] payload, Instant publishedAt) {}
