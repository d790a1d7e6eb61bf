package dev.conveyor.messagequeue.consume;

/**
 * One stage's logic. Must be idempotent: a message is redelivered after a crash, a lost lease
 * or a visibility timeout. An exception is classified by the consumer's {@link ErrorClassifier}.
 */
@FunctionalInterface
public interface MessageHandler {
  Outcome handle(Delivery delivery) throws Exception;
}
