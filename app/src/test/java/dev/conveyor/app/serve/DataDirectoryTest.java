package dev.conveyor.app.serve;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The data directory and serve's directories in it are owner-only; loosening found at start is undone and logged. */
class DataDirectoryTest {
  @TempDir Path dir;

  private static String mode(Path p) throws Exception {
    return PosixFilePermissions.toString(Files.getPosixFilePermissions(p));
  }

  @Test
  void aNewDataDirectoryAndItsSubdirectoriesAreCreated0700() throws Exception {
    Path data = dir.resolve("a/b/data");
    DataDirectory.prepare(data);
    assertThat(mode(data)).isEqualTo("rwx------");
    for (String sub : DataDirectory.PRIVATE) {
      assertThat(mode(data.resolve(sub))).as(sub).isEqualTo("rwx------");
    }
  }

  @Test
  void anExistingOpenDataDirectoryIsTightenedAndTheLogSaysSo() throws Exception {
    Path data = Files.createDirectories(dir.resolve("data"));
    Files.setPosixFilePermissions(data, PosixFilePermissions.fromString("rwxr-xr-x"));
    Files.createDirectories(data.resolve("builds"));
    Files.setPosixFilePermissions(data.resolve("builds"), PosixFilePermissions.fromString("rwxrwxrwx"));
    ListAppender<ILoggingEvent> logs = new ListAppender<>();
    logs.start();
    Logger logger = (Logger) LoggerFactory.getLogger(DataDirectory.class);
    logger.addAppender(logs);
    try {
      DataDirectory.prepare(data);
    } finally {
      logger.detachAppender(logs);
    }
    assertThat(mode(data)).isEqualTo("rwx------");
    assertThat(mode(data.resolve("builds"))).isEqualTo("rwx------");
    assertThat(logs.list.stream().map(ILoggingEvent::getFormattedMessage)).contains(
        "data directory " + data + " was rwxr-xr-x; tightened to rwx------ so that only its owner can read it",
        "directory " + data.resolve("builds") + " was rwxrwxrwx; tightened to rwx------ so that only its owner can"
            + " read it");
  }
}
