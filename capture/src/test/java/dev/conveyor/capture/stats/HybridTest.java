package dev.conveyor.capture.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.apache.parquet.bytes.HeapByteBufferAllocator;
import org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder;
import org.junit.jupiter.api.Test;

/** The run reader agrees with parquet's own encoder, and refuses what ends early. */
class HybridTest {
  @Test
  void readsWhatParquetsEncoderWroteRunsAndBitPackedGroupsAlike() throws Exception {
    Random random = new Random(3);
    for (int bitWidth : new int[] {1, 3, 8, 13, 20}) {
      List<Integer> written = new ArrayList<>();
      RunLengthBitPackingHybridEncoder encoder = new RunLengthBitPackingHybridEncoder(bitWidth, 64, 1 << 16,
          new HeapByteBufferAllocator());
      for (int i = 0; i < 5_000; i++) {
        // long runs (RLE) between stretches of noise (bit-packed)
        int value = (i / 500) % 2 == 0 ? 1 : random.nextInt(1 << bitWidth);
        written.add(value);
        encoder.writeInt(value);
      }
      ByteBuffer bytes = ByteBuffer.wrap(encoder.toBytes().toByteArray());
      long[] counts = new long[1 << bitWidth];
      Hybrid.histogram(bytes, bitWidth, written.size(), counts);
      long[] expected = new long[1 << bitWidth];
      written.forEach(v -> expected[v]++);
      assertThat(counts).as("bit width %d", bitWidth).isEqualTo(expected);
      // the first 1,234 values only: a count that ends inside a run or a bit-packed group
      long[] some = new long[1 << bitWidth];
      Hybrid.histogram(bytes, bitWidth, 1234, some);
      long[] expectedSome = new long[1 << bitWidth];
      written.subList(0, 1234).forEach(v -> expectedSome[v]++);
      assertThat(some).isEqualTo(expectedSome);
    }
  }

  @Test
  void aStreamThatEndsEarlyIsRefused() throws Exception {
    RunLengthBitPackingHybridEncoder encoder = new RunLengthBitPackingHybridEncoder(4, 64, 1 << 16,
        new HeapByteBufferAllocator());
    for (int i = 0; i < 100; i++) {
      encoder.writeInt(i % 16);
    }
    byte[] all = encoder.toBytes().toByteArray();
    ByteBuffer cut = ByteBuffer.wrap(all, 0, all.length / 2).slice();
    assertThatThrownBy(() -> Hybrid.histogram(cut, 4, 100, new long[16])).isInstanceOf(IOException.class);
    assertThatThrownBy(() -> Hybrid.histogram(ByteBuffer.wrap(all), 4, 10_000, new long[16]))
        .isInstanceOf(IOException.class).hasMessageContaining("end");
    assertThatThrownBy(() -> Hybrid.histogram(ByteBuffer.wrap(all), 40, 1, new long[16]))
        .isInstanceOf(IOException.class);
    assertThatThrownBy(() -> Hybrid.histogram(ByteBuffer.wrap(all), 4, 100, new long[3]))
        .as("a value beyond the dictionary").isInstanceOf(IOException.class).hasMessageContaining("outside");
  }
}
