package dev.conveyor.messagequeue.stream;

/**
 * Message ids are intent ids: the entity a message is about plus the cause that produced it.
 * A re-sent hand-off (same entity, same cause) is deduplicated; a new wake-up (same entity, new
 * cause) is not, even after the first was consumed.
 */
public final class IntentId {
  private IntentId() {}

  public static String of(String entityId, String cause) {
    if (entityId == null || entityId.isBlank()) {
      throw new IllegalArgumentException("intent id needs an entity id");
    }
    if (cause == null || cause.isBlank()) {
      throw new IllegalArgumentException("intent id needs a cause");
    }
    return entityId + "#" + cause;
  }
}
