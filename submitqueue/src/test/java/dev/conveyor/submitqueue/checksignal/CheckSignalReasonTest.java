package dev.conveyor.submitqueue.checksignal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.runway.StepResult;
import org.junit.jupiter.api.Test;

/** A request's reason says "does not apply" only when the change's own step failed. */
class CheckSignalReasonTest {

  @Test
  void aConflictOnTheStepSaysTheChangeDoesNotApply() {
    String conflict = "step 'app/1': conflict cherry-picking x onto main (conflicting paths: src/app.txt)";
    MergeResult result = MergeResult.newBuilder().setId("app/1").setOutcome(Outcome.FAILED).setReason(conflict)
        .addSteps(StepResult.newBuilder().setStepId("app/1").setReason(conflict)).build();
    assertThat(CheckSignalStage.reasonOf(result)).isEqualTo("the change does not apply: " + conflict);
  }

  @Test
  void runwayGivingUpIsReportedAsRunwaysFailureNotTheChanges() {
    String gaveUp = "runway gave up on this request after 5 attempts: IOException: disk full";
    MergeResult result = MergeResult.newBuilder().setId("app/2").setOutcome(Outcome.FAILED).setReason(gaveUp)
        .addSteps(StepResult.newBuilder().setStepId("app/2")).build();
    assertThat(CheckSignalStage.reasonOf(result))
        .isEqualTo("runway could not check the change: " + gaveUp)
        .doesNotContain("does not apply");
  }
}
