package dev.conveyor.api;

import com.google.protobuf.Descriptors.FileDescriptor;
import dev.conveyor.api.base.MessageQueueProto;
import dev.conveyor.api.catalog.StatsProto;
import dev.conveyor.api.reconcile.ControlProto;
import dev.conveyor.api.reconcile.ExecutorProto;
import dev.conveyor.api.runway.MergeProto;
import dev.conveyor.api.submitqueue.GatewayProto;
import dev.conveyor.api.submitqueue.PipelineProto;
import java.util.List;

/** The contract files this module publishes, for registry and drift checks. */
public final class Contracts {
  private Contracts() {}

  public static List<FileDescriptor> files() {
    return List.of(
        MessageQueueProto.getDescriptor(),
        MergeProto.getDescriptor(),
        GatewayProto.getDescriptor(),
        PipelineProto.getDescriptor(),
        ControlProto.getDescriptor(),
        ExecutorProto.getDescriptor(),
        StatsProto.getDescriptor());
  }
}
