package dev.conveyor.durability.signals;

/** One stored signal: its ledger-assigned sequence within (stream, partition) and when it committed. */
public record SignalRecord(String stream, String partition, long sequence, String intentId, byte[] payload,
    long emittedAtMillis) {}
