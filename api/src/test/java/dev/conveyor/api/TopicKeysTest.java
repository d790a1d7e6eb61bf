package dev.conveyor.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicKeysTest {

  @Test
  void readsTheOptionFromAMessage() {
    assertThat(TopicKeys.of(MergeRequest.getDefaultInstance())).containsExactly("runway.check", "runway.merge");
    assertThat(TopicKeys.of(MergeResult.getDescriptor()))
        .containsExactly("runway.check.signal", "runway.merge.signal");
  }

  @Test
  void messagesWithoutTheOptionHaveNoKeys() {
    assertThat(TopicKeys.of(Change.getDefaultInstance())).isEmpty();
  }

  @Test
  void everyTopicKeyInTheContractsIsBoundToExactlyOneMessage() {
    Map<String, String> owner = new HashMap<>();
    for (var d : TopicKeys.boundMessages(Contracts.files())) {
      for (String key : TopicKeys.of(d)) {
        String previous = owner.putIfAbsent(key, d.getFullName());
        assertThat(previous).as("topic key %s bound twice", key).isNull();
        assertThat(key).matches("[a-z][a-z0-9]*(\\.[a-z][a-z0-9_]*)+");
      }
    }
    assertThat(owner).containsKeys("runway.check", "runway.merge", "runway.check.signal", "runway.merge.signal");
    assertThat(List.copyOf(owner.values())).contains("conveyor.runway.messagequeue.MergeRequest");
  }
}
