package dev.conveyor.messagequeue.stream;

import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;

/** Stable key → partition mapping: the same key always lands in the same partition, on every node. */
public final class Partitioner {
  private Partitioner() {}

  public static int partition(String key, int partitions) {
    CRC32 crc = new CRC32();
    crc.update(key.getBytes(StandardCharsets.UTF_8));
    return (int) (crc.getValue() % partitions);
  }
}
