package dev.conveyor.submitqueue.request;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import java.util.List;
import java.util.Set;

/** One land request as stored. {@code version} guards every state change (compare-and-swap). */
public record RequestRecord(String requestId, String queue, long n, List<String> uris, Strategy strategy, State state,
    String batchId, String reason, List<String> paths, long createdAt, long updatedAt, long version, int priority) {

  /** The range of a request's priority; 0 is normal. */
  public static final int MIN_PRIORITY = -100;
  public static final int MAX_PRIORITY = 100;

  public static final Set<State> TERMINAL = Set.of(State.LANDED, State.ERROR, State.CANCELLED);

  public RequestRecord {
    uris = List.copyOf(uris);
    paths = paths == null ? List.of() : List.copyOf(paths);
  }

  public boolean terminal() {
    return TERMINAL.contains(state);
  }

  /** The change's identity for "one live request per change": its URIs, in order. */
  public static String changeKey(List<String> uris) {
    return String.join("\n", uris);
  }

  public Change change() {
    return Change.newBuilder().addAllUris(uris).build();
  }

  public RequestInfo toInfo() {
    return RequestInfo.newBuilder().setRequestId(requestId).setQueue(queue).setChange(change()).setStrategy(strategy)
        .setState(state).setBatchId(batchId == null ? "" : batchId).setReason(reason == null ? "" : reason)
        .setCreatedAtMs(createdAt).setUpdatedAtMs(updatedAt).setPriority(priority).build();
  }
}
