package dev.conveyor.api;

import com.google.protobuf.Descriptors.Descriptor;
import com.google.protobuf.Descriptors.FileDescriptor;
import com.google.protobuf.Message;
import dev.conveyor.api.base.MessageQueueProto;
import java.util.ArrayList;
import java.util.List;

/** Reads the {@code topic_keys} option that binds a contract message to its logical topics. */
public final class TopicKeys {
  private TopicKeys() {}

  public static List<String> of(Descriptor descriptor) {
    return List.copyOf(descriptor.getOptions().getExtension(MessageQueueProto.topicKeys));
  }

  public static List<String> of(Message message) {
    return of(message.getDescriptorForType());
  }

  /** Every message (nested ones included) in {@code files} that names at least one topic key. */
  public static List<Descriptor> boundMessages(List<FileDescriptor> files) {
    List<Descriptor> bound = new ArrayList<>();
    for (FileDescriptor file : files) {
      for (Descriptor d : file.getMessageTypes()) {
        collect(d, bound);
      }
    }
    return bound;
  }

  private static void collect(Descriptor d, List<Descriptor> out) {
    if (!of(d).isEmpty()) {
      out.add(d);
    }
    for (Descriptor nested : d.getNestedTypes()) {
      collect(nested, out);
    }
  }
}
