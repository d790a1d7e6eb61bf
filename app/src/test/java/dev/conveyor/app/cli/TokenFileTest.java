package dev.conveyor.app.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker started before its node, and a node that restarts with a new token: the file is followed. */
class TokenFileTest {
  @TempDir Path dir;

  @Test
  void noTokenUntilTheFileAppearsThenEachNewTokenIsRead() throws Exception {
    Path file = dir.resolve("local-token");
    TokenFile token = new TokenFile(file);
    assertThat(token.exists()).isFalse();
    assertThat(token.current()).isNull();

    Files.writeString(file, "first-token\n");
    assertThat(token.current()).isEqualTo("first-token");

    // the node restarted and wrote a new token of the same length; its time differs
    Files.writeString(file, "other-token\n");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(5)));
    assertThat(token.current()).isEqualTo("other-token");

    Files.writeString(file, "");
    Files.setLastModifiedTime(file, FileTime.from(Instant.now().plusSeconds(10)));
    assertThat(token.current()).as("an empty file is no token").isNull();
    Files.delete(file);
    assertThat(token.current()).isNull();
  }
}
