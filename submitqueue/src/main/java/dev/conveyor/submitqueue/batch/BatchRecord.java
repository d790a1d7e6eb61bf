package dev.conveyor.submitqueue.batch;

import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.BatchInfo.State;
import java.util.List;
import java.util.Set;

/** A batch as stored: its requests, in merge order, and the active batches it must follow. */
public record BatchRecord(String batchId, String queue, State state, String reason, long createdN,
    List<String> requestIds, List<String> dependsOn, long version, long createdAtMillis) {

  /** SPLIT ends a batch whose requests went on in other batches (bisection, or a member's cancel). */
  public static final Set<State> TERMINAL = Set.of(State.SUCCEEDED, State.FAILED, State.CANCELLED, State.SPLIT);
  public static final Set<State> ACTIVE = Set.of(State.CREATED, State.SPECULATING, State.MERGING, State.CANCELLING);

  public BatchRecord {
    requestIds = List.copyOf(requestIds);
    dependsOn = List.copyOf(dependsOn);
  }

  public boolean terminal() {
    return TERMINAL.contains(state);
  }

  public BatchInfo toInfo() {
    return BatchInfo.newBuilder().setBatchId(batchId).setQueue(queue).setState(state).addAllRequestIds(requestIds)
        .addAllDependsOn(dependsOn).setReason(reason == null ? "" : reason).build();
  }
}
