package dev.conveyor.reconcile.planning;

import com.google.protobuf.ByteString;
import dev.conveyor.api.catalog.NdvSketch;
import org.apache.datasketches.memory.Memory;
import org.apache.datasketches.theta.CompactSketch;
import org.apache.datasketches.theta.SetOperation;
import org.apache.datasketches.theta.Sketches;
import org.apache.datasketches.theta.Union;

/**
 * The NDV of several files together: the union of their theta sketches, never a sum of estimates.
 * The union keeps as many entries as capture's sketches (4,096), so a roll-up holds exactly the
 * sketch a single pass over all the files' values would have produced. Sketches whose values were hashed
 * differently ({@code value_encoding}) have no meaningful union: the NDV is then unknown, not wrong.
 */
public final class NdvUnion {
  public static final int NOMINAL_ENTRIES = 4096; // lg k = 12, as the files' sketches

  private NdvUnion() {}

  /** Whether {@link #union} can combine the two: both present and hashed alike. */
  public static boolean compatible(NdvSketch a, NdvSketch b) {
    return !a.getThetaSketch().isEmpty() && !b.getThetaSketch().isEmpty()
        && a.getValueEncoding() == b.getValueEncoding();
  }

  public static NdvSketch union(NdvSketch a, NdvSketch b) {
    Union union = SetOperation.builder().setNominalEntries(NOMINAL_ENTRIES).buildUnion();
    union.union(Sketches.wrapSketch(Memory.wrap(a.getThetaSketch().toByteArray())));
    union.union(Sketches.wrapSketch(Memory.wrap(b.getThetaSketch().toByteArray())));
    CompactSketch r = union.getResult();
    return NdvSketch.newBuilder().setEstimate(r.getEstimate()).setLowerBound(r.getLowerBound(3))
        .setUpperBound(r.getUpperBound(3)).setThetaSketch(ByteString.copyFrom(r.toByteArray()))
        .setValueEncoding(a.getValueEncoding()).build();
  }
}
