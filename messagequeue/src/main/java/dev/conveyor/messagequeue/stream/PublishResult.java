package dev.conveyor.messagequeue.stream;

/**
 * Where a publish landed. {@code duplicate} means a message with the same intent id is already
 * retained in that partition (or already scheduled), so nothing new was written.
 */
public record PublishResult(String topic, int partition, long seq, boolean duplicate) {}
