package dev.conveyor.reconcile.executor;

import dev.conveyor.api.reconcile.JobKind;
import dev.conveyor.api.reconcile.JobState;

/** Maps the wire enums of the reconcile contract to the ledger's job kinds and states. */
public final class JobKinds {
  private JobKinds() {}

  public static dev.conveyor.ledger.jobs.JobKind fromWire(JobKind kind) {
    return switch (kind) {
      case RJK_PLAN_CONNECTOR -> dev.conveyor.ledger.jobs.JobKind.PLAN_CONNECTOR;
      case RJK_PLAN_TABLE -> dev.conveyor.ledger.jobs.JobKind.PLAN_TABLE;
      case RJK_PLAN_SNAPSHOT -> dev.conveyor.ledger.jobs.JobKind.PLAN_SNAPSHOT;
      case RJK_EXEC_FILE_GROUP -> dev.conveyor.ledger.jobs.JobKind.EXEC_FILE_GROUP;
      case RJK_FINALIZE_SNAPSHOT -> dev.conveyor.ledger.jobs.JobKind.FINALIZE_SNAPSHOT;
      case RJK_BUILD -> dev.conveyor.ledger.jobs.JobKind.BUILD;
      default -> throw new IllegalArgumentException("job_kinds contains " + kind + ", which is not a job kind");
    };
  }

  public static JobKind toWire(dev.conveyor.ledger.jobs.JobKind kind) {
    return JobKind.valueOf("RJK_" + kind.name());
  }

  public static JobState toWire(dev.conveyor.ledger.jobs.JobState state) {
    return JobState.valueOf("RJS_" + state.name());
  }
}
