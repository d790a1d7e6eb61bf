package dev.conveyor.runway.merge;

import java.util.List;
import org.eclipse.jgit.lib.ObjectId;

/** What a merge or dry run came to. Infrastructure failures are thrown, not returned. */
public sealed interface MergeOutcome {

  /**
   * Every step applies. For a merge, {@code newTip} is on the remote ({@code pushed} is false when
   * every change was already present); for a dry run it is only the tip the merge would produce.
   */
  record Succeeded(List<StepOutcome> steps, ObjectId oldTip, ObjectId newTip, boolean pushed, int pushAttempts)
      implements MergeOutcome {
    public Succeeded {
      steps = List.copyOf(steps);
    }
  }

  /** Nothing was pushed. {@code stepId} is null when the request as a whole was at fault. */
  record Failed(String stepId, String reason, List<String> paths) implements MergeOutcome {
    public Failed {
      paths = List.copyOf(paths);
    }

    static Failed of(MergeRejection r) {
      return new Failed(r.stepId(), r.describe(), r.paths());
    }
  }

  /**
   * One step's result: one output revision per applied change URI, none when already present or dry; for
   * each output, the target's tip just before its change (its base).
   */
  record StepOutcome(String stepId, List<ObjectId> outputs, List<ObjectId> bases, String note) {
    public StepOutcome {
      outputs = List.copyOf(outputs);
      bases = List.copyOf(bases);
      if (bases.size() != outputs.size()) {
        throw new IllegalArgumentException("one base per output");
      }
    }

    /** A step that put nothing on the target. */
    public static StepOutcome none(String stepId, String note) {
      return new StepOutcome(stepId, List.of(), List.of(), note);
    }
  }
}
