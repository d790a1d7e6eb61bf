package dev.conveyor.submitqueue.pipeline;

import dev.conveyor.messagequeue.consume.MessageHandler;

/** Wraps a stage's handler by stage name; identity in production, a fault injector in tests. */
@FunctionalInterface
public interface StageDecorator {
  StageDecorator NONE = (stage, handler) -> handler;

  MessageHandler decorate(String stage, MessageHandler handler);
}
