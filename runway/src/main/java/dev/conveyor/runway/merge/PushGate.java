package dev.conveyor.runway.merge;

import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import org.eclipse.jgit.lib.ObjectId;

/**
 * Called right before each push attempt, after every step applied. A hook for metrics and audit,
 * and for tests that move the target between fetch and push. Must not block for long.
 */
@FunctionalInterface
public interface PushGate {
  PushGate NONE = (queue, expectedTip, newTip, attempt) -> {};

  void beforePush(QueueConfig queue, ObjectId expectedTip, ObjectId newTip, int attempt) throws IOException;
}
