package dev.conveyor.messagequeue.consume;

import com.google.protobuf.Message;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.messagequeue.stream.StreamMessage;
import java.time.Duration;

/** One message handed to a handler: the message, which attempt this is, and the visibility controls. */
public final class Delivery {
  private final StreamMessage message;
  private final int attempt;
  private final String group;
  private final VisibilityTimer timer;

  Delivery(StreamMessage message, int attempt, String group, VisibilityTimer timer) {
    this.message = message;
    this.attempt = attempt;
    this.group = group;
    this.timer = timer;
  }

  public StreamMessage message() {
    return message;
  }

  public byte[] payload() {
    return message.payload();
  }

  /** 1 for a first delivery; higher after nacks, crashes or timeouts. */
  public int attempt() {
    return attempt;
  }

  public String group() {
    return group;
  }

  public <M extends Message> M payloadAs(M prototype) throws ProtoJson.PayloadException {
    return ProtoJson.fromBytes(message.payload(), prototype);
  }

  /** Pushes this delivery's visibility deadline to {@code extension} from now. */
  public void extendVisibility(Duration extension) {
    timer.extend(extension);
  }
}
