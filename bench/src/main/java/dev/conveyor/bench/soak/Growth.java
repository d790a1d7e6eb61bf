package dev.conveyor.bench.soak;

import java.util.List;

/**
 * Whether a series keeps growing over the last half of a run. Retention makes row counts a sawtooth
 * (they rise between maintenance runs and fall after one), so a single rising pair of samples means
 * nothing; the rule compares the two quarters of the last half: the series grows when even the
 * smallest value of the last quarter exceeds the largest of the quarter before it by more than a
 * tolerance. A table held in check by retention, or one that is constant, never trips it; one that
 * nothing deletes does within a few samples.
 */
public record Growth(long earlierMax, long laterMin, boolean grows, boolean judged) {

  /** {@code values} in sample order, covering the whole run; {@code floor}: the least growth that counts. */
  public static Growth of(List<Long> values, long floor, double fraction) {
    List<Long> lastHalf = values.subList(values.size() / 2, values.size());
    if (lastHalf.size() < 2) {
      return new Growth(0, 0, false, false);
    }
    List<Long> earlier = lastHalf.subList(0, lastHalf.size() / 2);
    List<Long> later = lastHalf.subList(lastHalf.size() / 2, lastHalf.size());
    long earlierMax = earlier.stream().mapToLong(Long::longValue).max().orElseThrow();
    long laterMin = later.stream().mapToLong(Long::longValue).min().orElseThrow();
    long tolerance = Math.max(floor, (long) (earlierMax * fraction));
    return new Growth(earlierMax, laterMin, laterMin > earlierMax + tolerance, true);
  }
}
