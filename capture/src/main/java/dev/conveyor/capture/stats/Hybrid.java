package dev.conveyor.capture.stats;

import java.io.IOException;
import java.nio.ByteBuffer;

/**
 * A reader of Parquet's RLE / bit-packing hybrid encoding (definition levels, dictionary indices) for
 * what statistics need of it: how often each value occurs. Bounds are checked against the buffer; a
 * stream that ends early, or a value out of range, is refused.
 */
final class Hybrid {
  private Hybrid() {}

  /**
   * Counts how often each value occurs among {@code count} values of {@code bitWidth} bits:
   * {@code counts[v]} grows by the occurrences of {@code v}. RLE runs add their length at once,
   * bit-packed groups unpack eight values at a time with parquet's own unpackers; a writer may cut the
   * last group short. A value at or beyond {@code counts.length} is refused.
   */
  static void histogram(ByteBuffer b, int bitWidth, int count, long[] counts) throws IOException {
    if (bitWidth < 0 || bitWidth > 32) {
      throw new IOException("a hybrid-encoded bit width of " + bitWidth);
    }
    org.apache.parquet.column.values.bitpacking.BytePacker packer =
        org.apache.parquet.column.values.bitpacking.Packer.LITTLE_ENDIAN.newBytePacker(bitWidth);
    int valueBytes = (bitWidth + 7) / 8;
    int[] eight = new int[8];
    byte[] padded = new byte[Math.max(1, bitWidth)];
    int at = 0;
    int left = count;
    int end = b.limit();
    while (left > 0) {
      long header = 0;
      int shift = 0;
      while (true) {
        if (at >= end) {
          throw new IOException("hybrid-encoded values end after " + (count - left) + " of " + count);
        }
        int next = b.get(at++) & 0xff;
        header |= (long) (next & 0x7f) << shift;
        if ((next & 0x80) == 0) {
          break;
        }
        shift += 7;
        if (shift > 28) {
          throw new IOException("a hybrid-encoded run header longer than 5 bytes");
        }
      }
      if ((header & 1) == 0) {
        if (at + valueBytes > end) {
          throw new IOException("an RLE run's value overruns its buffer");
        }
        long value = 0;
        for (int i = 0; i < valueBytes; i++) {
          value |= (long) (b.get(at + i) & 0xff) << (8 * i);
        }
        at += valueBytes;
        int n = (int) Math.min(header >>> 1, left);
        if (n > 0) {
          if (value >= counts.length) {
            throw new IOException("value " + value + " outside 0.." + (counts.length - 1));
          }
          counts[(int) value] += n;
        }
        left -= n;
      } else {
        long groups = header >>> 1;
        int n = (int) Math.min(groups * 8, left);
        long needed = ((long) n * bitWidth + 7) / 8;
        if (needed > end - at) {
          throw new IOException("a bit-packed run overruns its buffer");
        }
        int p = at;
        for (int done = 0; done < n; done += 8) {
          if (end - p >= bitWidth) {
            packer.unpack8Values(b, p, eight, 0);
          } else { // a last group the writer cut short: unpack it from a zero-padded copy
            java.util.Arrays.fill(padded, (byte) 0);
            b.get(p, padded, 0, end - p);
            packer.unpack8Values(padded, 0, eight, 0);
          }
          p += bitWidth;
          for (int k = 0, m = Math.min(8, n - done); k < m; k++) {
            int v = eight[k];
            if (v < 0 || v >= counts.length) {
              throw new IOException("value " + (v & 0xffffffffL) + " outside 0.." + (counts.length - 1));
            }
            counts[v]++;
          }
        }
        at += (int) Math.min(groups * bitWidth, end - at);
        left -= n;
      }
    }
  }
}
