package dev.conveyor.capture.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Random;
import org.apache.datasketches.hash.MurmurHash3;
import org.apache.datasketches.theta.UpdateSketch;
import org.junit.jupiter.api.Test;

/** The prefilter's hash is the library's, bit for bit, and a prefiltered sketch is the same sketch. */
class ThetaHashTest {
  @Test
  void theHashIsTheLibrarysForLongs() {
    Random random = new Random(11);
    long[] specials = {0, 1, -1, Long.MIN_VALUE, Long.MAX_VALUE};
    for (int i = 0; i < 200_000; i++) {
      long v = i < specials.length ? specials[i] : random.nextLong();
      assertThat(ThetaHash.ofLong(v)).isEqualTo(MurmurHash3.hash(new long[] {v}, 9001L)[0] >>> 1);
    }
  }

  @Test
  void skippingWhatTheSketchWouldRejectLeavesTheSameSketch() {
    UpdateSketch every = UpdateSketch.builder().setNominalEntries(ColumnDecoder.NDV_NOMINAL_ENTRIES).build();
    UpdateSketch filtered = UpdateSketch.builder().setNominalEntries(ColumnDecoder.NDV_NOMINAL_ENTRIES).build();
    Random random = new Random(5);
    long skipped = 0;
    for (int i = 0; i < 1_000_000; i++) {
      long v = random.nextInt(400_000);
      every.update(v);
      if (filtered.getThetaLong() == Long.MAX_VALUE || ThetaHash.ofLong(v) < filtered.getThetaLong()) {
        filtered.update(v);
      } else {
        skipped++;
      }
    }
    assertThat(skipped).as("the prefilter did skip values").isGreaterThan(500_000);
    assertThat(filtered.compact().toByteArray()).isEqualTo(every.compact().toByteArray());
  }
}
