package dev.conveyor.messagequeue.topic;

import java.util.regex.Pattern;

/**
 * A logical topic name, namespaced by its owner ({@code submitqueue.batch}, {@code runway.merge}).
 * It is not a wire name: the {@link TopicRegistry} maps keys to wire topics.
 */
public record TopicKey(String value) {
  private static final Pattern FORM = Pattern.compile("[a-z][a-z0-9]*(\\.[a-z][a-z0-9_]*)+");

  public TopicKey {
    if (value == null || !FORM.matcher(value).matches()) {
      throw new IllegalArgumentException("topic key '" + value
          + "' must be <owner>.<name> in lower case, e.g. runway.merge");
    }
  }

  public static TopicKey of(String value) {
    return new TopicKey(value);
  }

  public String owner() {
    return value.substring(0, value.indexOf('.'));
  }

  @Override
  public String toString() {
    return value;
  }
}
