package dev.conveyor.messagequeue.topic;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.Contracts;
import dev.conveyor.api.TopicKeys;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class TopicRegistryTest {

  @Test
  void duplicateKeysFailAtStartup() {
    TopicRegistry.Builder b = TopicRegistry.builder().register(TopicKey.of("runway.merge"));
    assertThatThrownBy(() -> b.register(TopicKey.of("runway.merge"), TopicConfig.defaults("other")))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("registered twice");
  }

  @Test
  void aWireNameClaimedTwiceFailsAtStartup() {
    TopicRegistry.Builder b = TopicRegistry.builder().register(TopicKey.of("a.one"), TopicConfig.defaults("shared"));
    assertThatThrownBy(() -> b.register(TopicKey.of("b.two"), TopicConfig.defaults("shared")))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("claimed by both");
  }

  @Test
  void invalidNamesFailWithTheRule() {
    assertThatThrownBy(() -> TopicKey.of("NoOwner")).hasMessageContaining("<owner>.<name>");
    assertThatThrownBy(() -> TopicConfig.defaults("Has Spaces")).hasMessageContaining("wire topic name");
    assertThatThrownBy(() -> TopicRegistry.builder().register(TopicKey.of("a.b"), TopicConfig.defaults("x.dlq")))
        .hasMessageContaining(".dlq");
  }

  @Test
  void deadLetterTopicsAreKnownByWireName() {
    TopicRegistry r = TopicRegistry.builder().register(TopicKey.of("runway.merge"), TopicConfig.defaults("runway-merge"))
        .build();
    assertThat(r.configOfWire("runway-merge.dlq")).get().extracting(TopicConfig::partitions).isEqualTo(1);
    assertThat(r.configOfWire("nope.dlq")).isEmpty();
  }

  @Test
  void everyContractTopicKeyIsBoundToExactlyOneMessageAndIsAValidKey() {
    Map<String, String> owner = new HashMap<>();
    TopicRegistry.Builder b = TopicRegistry.builder();
    for (var d : TopicKeys.boundMessages(Contracts.files())) {
      for (String key : TopicKeys.of(d)) {
        assertThat(owner.put(key, d.getFullName())).as("key %s bound twice", key).isNull();
        b.register(TopicKey.of(key)); // fails on an invalid or duplicate key
      }
    }
    TopicRegistry registry = b.build();
    for (String key : owner.keySet()) {
      assertThat(registry.contains(TopicKey.of(key))).isTrue();
    }
    assertThat(owner).isNotEmpty();
  }
}
