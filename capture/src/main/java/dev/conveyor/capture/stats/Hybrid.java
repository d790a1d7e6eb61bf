package dev.conveyor.capture.stats;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A reader of Parquet's RLE / bit-packing hybrid encoding (definition levels, dictionary indices) that
 * hands out runs rather than values: an RLE run of n equal values is one call, so counting present
 * values or summing dictionary widths costs per run, not per row. Bounds are checked against the
 * buffer; a stream that ends early is refused.
 */
final class Hybrid {
  private Hybrid() {}

  /** Receives {@code run} consecutive occurrences of {@code value}. */
  interface Runs {
    void accept(int value, int run) throws IOException;
  }

  /** Reads {@code count} values of {@code bitWidth} bits from {@code b} (position 0 to limit). */
  static void scan(ByteBuffer b, int bitWidth, int count, Runs runs) throws IOException {
    if (bitWidth < 0 || bitWidth > 32) {
      throw new IOException("a hybrid-encoded bit width of " + bitWidth);
    }
    int valueBytes = (bitWidth + 7) / 8;
    long mask = bitWidth == 32 ? 0xffffffffL : (1L << bitWidth) - 1;
    int at = 0;
    int left = count;
    int end = b.limit();
    while (left > 0) {
      long header = 0;
      int shift = 0;
      while (true) { // ULEB128
        if (at >= end) {
          throw new IOException("hybrid-encoded values end after " + (count - left) + " of " + count);
        }
        int next = b.get(at++) & 0xff;
        header |= (long) (next & 0x7f) << shift;
        if ((next & 0x80) == 0) {
          break;
        }
        shift += 7;
        if (shift > 35) {
          throw new IOException("a hybrid-encoded run header longer than 5 bytes");
        }
      }
      if ((header & 1) == 0) { // RLE: a count, then one value in valueBytes little-endian bytes
        long run = header >>> 1;
        if (at + valueBytes > end) {
          throw new IOException("an RLE run's value overruns its buffer");
        }
        int value = 0;
        for (int i = 0; i < valueBytes; i++) {
          value |= (b.get(at + i) & 0xff) << (8 * i);
        }
        at += valueBytes;
        int n = (int) Math.min(run, left);
        if (n > 0) {
          runs.accept(value, n);
        }
        left -= n;
      } else { // bit-packed: groups of 8 values, bitWidth bytes per group, least significant bit first
        long groups = header >>> 1;
        long bytes = groups * bitWidth;
        if (bytes > end - at) {
          throw new IOException("a bit-packed run overruns its buffer");
        }
        int n = (int) Math.min(groups * 8, left);
        long buffer = 0;
        int bits = 0;
        int p = at;
        for (int i = 0; i < n; i++) {
          while (bits < bitWidth) {
            buffer |= (long) (b.get(p++) & 0xff) << bits;
            bits += 8;
          }
          int value = (int) (buffer & mask);
          buffer >>>= bitWidth;
          bits -= bitWidth;
          runs.accept(value, 1);
        }
        at += (int) bytes;
        left -= n;
      }
    }
  }
}
