package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.runway.StepResult;
import org.junit.jupiter.api.Test;

class ProtoJsonTest {

  private static MergeRequest sampleRequest() {
    return MergeRequest.newBuilder()
        .setId("main/42")
        .setQueueName("main")
        .addSteps(MergeStep.newBuilder()
            .setStepId("main/42")
            .setChange(Change.newBuilder().addUris("git+file:///repo#refs/heads/feature@abc"))
            .setStrategy(Strategy.SQUASH_REBASE))
        .build();
  }

  @Test
  void mergeRequestRoundTripsWithSnakeCaseNamesAndEnumNames() throws Exception {
    MergeRequest request = sampleRequest();
    String json = ProtoJson.toJson(request);

    assertThat(json)
        .contains("\"queue_name\":\"main\"")
        .contains("\"step_id\":\"main/42\"")
        .contains("\"strategy\":\"SQUASH_REBASE\"")
        .doesNotContain("queueName")
        .doesNotContain("stepId");
    assertThat(ProtoJson.fromJson(json, MergeRequest.getDefaultInstance())).isEqualTo(request);
  }

  @Test
  void mergeResultCarriesOutcomeAsName() throws Exception {
    MergeResult result = MergeResult.newBuilder()
        .setId("batch-1")
        .setQueueName("main")
        .setOutcome(Outcome.FAILED)
        .setReason("step main/42 conflicts in a.txt")
        .addSteps(StepResult.newBuilder().setStepId("main/42").setReason("conflict: a.txt"))
        .build();
    String json = ProtoJson.toJson(result);
    assertThat(json).contains("\"outcome\":\"FAILED\"");
    assertThat(ProtoJson.fromJson(json, MergeResult.getDefaultInstance())).isEqualTo(result);
  }

  @Test
  void int64IsAStringOnTheWire() throws Exception {
    TargetStatsRecord rec = TargetStatsRecord.newBuilder().setTableId("t").setRowCount(9_007_199_254_740_993L).build();
    String json = ProtoJson.toJson(rec);
    assertThat(json).contains("\"row_count\":\"9007199254740993\"");
    assertThat(ProtoJson.fromJson(json, TargetStatsRecord.getDefaultInstance()).getRowCount())
        .isEqualTo(9_007_199_254_740_993L);
  }

  @Test
  void unknownFieldsAreIgnoredSoContractsCanGrow() throws Exception {
    String json = "{\"id\":\"x\",\"queue_name\":\"q\",\"field_from_the_future\":{\"a\":1}}";
    MergeRequest parsed = ProtoJson.fromJson(json, MergeRequest.getDefaultInstance());
    assertThat(parsed.getId()).isEqualTo("x");
    assertThat(parsed.getQueueName()).isEqualTo("q");
  }

  @Test
  void malformedPayloadIsAClearError() {
    assertThatThrownBy(() -> ProtoJson.fromJson("{not json", MergeRequest.getDefaultInstance()))
        .isInstanceOf(ProtoJson.PayloadException.class)
        .hasMessageContaining("conveyor.runway.messagequeue.MergeRequest");
    assertThatThrownBy(() -> ProtoJson.fromJson("{\"steps\":\"not-a-list\"}", MergeRequest.getDefaultInstance()))
        .isInstanceOf(ProtoJson.PayloadException.class);
  }

  @Test
  void enumNameFromANewerWriterReadsAsTheDefault() throws Exception {
    // A newer contract may add a strategy; an older reader must not reject the whole payload.
    MergeRequest parsed =
        ProtoJson.fromJson("{\"steps\":[{\"step_id\":\"s\",\"strategy\":\"OCTOPUS\"}]}", MergeRequest.getDefaultInstance());
    assertThat(parsed.getSteps(0).getStrategy()).isEqualTo(Strategy.DEFAULT);
  }
}
