package dev.conveyor.supervise;

/**
 * One supervised loop as health checks and metrics see it: its failures since start, how many in a
 * row now, whether it is healthy, and the last failure (class and message), or null.
 */
public record LoopStatus(String name, long failures, int consecutive, boolean healthy, String lastError) {}
