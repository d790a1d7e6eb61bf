package dev.conveyor.capture.stats;

/**
 * The hash DataSketches' theta sketch gives a value of up to eight little-endian bytes (MurmurHash3
 * x64-128 of those bytes under the default seed, first half, shifted right by one): what
 * {@code update(long)} or {@code update(byte[])} of four or eight bytes computes, without the arrays the
 * library allocates per value. Used only to skip values a sketch in
 * estimation mode would reject anyway (hash at or above its theta); every value it lets through is
 * given to the sketch itself, so the sketch is exactly what updating with every value makes.
 */
final class ThetaHash {
  private static final long SEED = 9001L; // DataSketches' DEFAULT_UPDATE_SEED, which capture's sketches use
  private static final long C1 = 0x87c37b91114253d5L;
  private static final long C2 = 0x4cf5ad432745937fL;

  private ThetaHash() {}

  /** The sketch hash of {@code update(value)}: its eight little-endian bytes. */
  static long ofLong(long value) {
    return ofLittleEndian(value, 8);
  }

  /**
   * The sketch hash of the {@code length} (1 to 8) little-endian bytes of {@code bits} (the bytes past
   * {@code length} must be zero): MurmurHash3's tail step, the only one an input this short takes.
   */
  static long ofLittleEndian(long bits, int length) {
    long h1 = SEED;
    long h2 = SEED;
    long k1 = bits * C1;
    k1 = Long.rotateLeft(k1, 31) * C2;
    h1 ^= k1;
    h1 ^= length;
    h2 ^= length;
    h1 += h2;
    h2 += h1;
    h1 = mix(h1);
    h2 = mix(h2);
    h1 += h2;
    return h1 >>> 1;
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
