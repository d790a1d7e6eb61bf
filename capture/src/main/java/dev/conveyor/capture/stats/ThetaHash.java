package dev.conveyor.capture.stats;

/**
 * The hash DataSketches' theta {@code UpdateSketch.update(long)} gives a value (MurmurHash3 x64-128 of
 * its eight little-endian bytes under the default seed, first half, shifted right by one), computed
 * without the two arrays the library allocates per value. Used only to skip values a sketch in
 * estimation mode would reject anyway (hash at or above its theta); every value it lets through is
 * given to the sketch itself, so the sketch is exactly what updating with every value makes.
 */
final class ThetaHash {
  private static final long SEED = 9001L; // DataSketches' DEFAULT_UPDATE_SEED, which capture's sketches use
  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;

  private ThetaHash() {}

  /** The sketch hash of {@code update(value)}. */
  static long ofLong(long value) {
    long h1 = SEED;
    long h2 = SEED;
    long k1 = value * C1;
    k1 = Long.rotateLeft(k1, 31) * C2;
    h1 ^= k1;
    h1 ^= 8; // the input's length in bytes
    h2 ^= 8;
    h1 += h2;
    h2 += h1;
    h1 = mix(h1);
    h2 = mix(h2);
    h1 += h2;
    return h1 >>> 1;
  }

  /** The sketch hash of {@code update(value)} for a double (-0.0 and 0.0 alike, every NaN alike). */
  static long ofDouble(double value) {
    return ofLong(Double.doubleToLongBits(value == 0.0 ? 0.0 : value));
  }

  private static long mix(long k) {
    k ^= k >>> 33;
    k *= 0xff51afd7ed558ccdL;
    k ^= k >>> 33;
    k *= 0xc4ceb9fe1a85ec53L;
    k ^= k >>> 33;
    return k;
  }
}
