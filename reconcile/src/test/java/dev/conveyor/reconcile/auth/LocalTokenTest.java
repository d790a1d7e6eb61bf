package dev.conveyor.reconcile.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A fleet's shared token file: made once, owner-only, accepted by every node given it; a weak one refused. */
class LocalTokenTest {
  @TempDir Path dir;

  @Test
  void nodesGivenTheSameFileAcceptTheSameToken() throws IOException {
    Path shared = dir.resolve("fleet/token");
    LocalToken a = LocalToken.inFile(shared);
    LocalToken b = LocalToken.inFile(shared);
    assertThat(a.value()).hasSize(64).isEqualTo(b.value());
    assertThat(Files.getPosixFilePermissions(shared)).isEqualTo(PosixFilePermissions.fromString("rw-------"));
    assertThat(b.subjectOf(a.value())).isEqualTo("local-token");
    assertThatThrownBy(() -> b.rolesOf("not-the-token")).hasMessageContaining("not this server's local token");
  }

  @Test
  void aShortOrBlankTokenIsRefusedWithTheFileNamed() throws IOException {
    Path weak = dir.resolve("weak");
    Files.writeString(weak, "secret\n");
    assertThatThrownBy(() -> LocalToken.inFile(weak)).isInstanceOf(IOException.class)
        .hasMessageContaining(weak.toString()).hasMessageContaining("at least 32");
    Path spaced = dir.resolve("spaced");
    Files.writeString(spaced, "a".repeat(20) + " " + "b".repeat(20));
    assertThatThrownBy(() -> LocalToken.inFile(spaced)).hasMessageContaining("without spaces");
  }
}
