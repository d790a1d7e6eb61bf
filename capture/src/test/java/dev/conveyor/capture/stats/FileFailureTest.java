package dev.conveyor.capture.stats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.UnreadableFile.Cause;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.apache.parquet.format.CompressionCodec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Each cause is decided from what parquet-java and the filesystem really say about real bad files. */
class FileFailureTest {
  @TempDir Path dir;

  private static FileFailure failureOf(Path file, long plannedSize) {
    try {
      ParquetFileStats.capture(file, "t", "s", ColumnSelection.getDefaultInstance(), true);
    } catch (FileCaptureException e) {
      return FileFailure.classify(file, plannedSize, e);
    }
    return fail(file + " was captured");
  }

  private static void unreadable(FileFailure f, Cause cause, String says) {
    assertThat(f).isInstanceOfSatisfying(FileFailure.Unreadable.class, u -> {
      assertThat(u.cause()).isEqualTo(cause);
      assertThat(u.message()).contains(says).hasSizeLessThanOrEqualTo(FileFailure.MAX_MESSAGE_CHARS);
    });
  }

  @Test
  void everyKindOfBadFileGetsItsCause() throws Exception {
    Path good = dir.resolve("good.parquet");
    ParquetFileStatsTest.write(good, 500, 1);
    byte[] bytes = Files.readAllBytes(good);

    unreadable(failureOf(dir.resolve("gone.parquet"), 100), Cause.MISSING, "no longer exists");
    Path half = Files.write(dir.resolve("half.parquet"), Arrays.copyOf(bytes, bytes.length / 2));
    unreadable(failureOf(half, bytes.length), Cause.TRUNCATED, bytes.length / 2 + " bytes of the " + bytes.length
        + " planned");
    Path tiny = Files.write(dir.resolve("tiny.parquet"), Arrays.copyOf(bytes, 6));
    unreadable(failureOf(tiny, 0), Cause.TRUNCATED, "cut short: 6 bytes");
    Path text = Files.writeString(dir.resolve("notes.parquet"), "id,name\n1,alice\n");
    unreadable(failureOf(text, 0), Cause.NOT_PARQUET, "no Parquet magic at its head");
    byte[] footer = bytes.clone();
    Arrays.fill(footer, footer.length - 200, footer.length - 8, (byte) 0x5A);
    Path badFooter = Files.write(dir.resolve("footer.parquet"), footer);
    unreadable(failureOf(badFooter, bytes.length), Cause.CORRUPT, "FileMetaData");
    byte[] pages = bytes.clone();
    Arrays.fill(pages, 4, 300, (byte) 0x5A);
    Path badPages = Files.write(dir.resolve("pages.parquet"), pages);
    unreadable(failureOf(badPages, bytes.length), Cause.CORRUPT, "PageHeader");
    Path lzo = dir.resolve("lzo.parquet");
    FooterSurgery.withCodec(good, lzo, CompressionCodec.LZO);
    unreadable(failureOf(lzo, 0), Cause.UNSUPPORTED, "LzoCodec");
    Path lz4 = dir.resolve("lz4.parquet");
    FooterSurgery.withCodec(good, lz4, CompressionCodec.LZ4); // Hadoop's LZ4 without lz4-java: NoClassDefFoundError
    unreadable(failureOf(lz4, 0), Cause.UNSUPPORTED, "codec");
  }

  @Test
  void aDirectoryIsUnreadableAndTheWorkersOwnOutputFailingIsTransient() throws Exception {
    Path sub = Files.createDirectory(dir.resolve("sub.parquet"));
    unreadable(failureOf(sub, 0), Cause.UNREADABLE, "not a regular file");
    var local = FileCaptureException.localFault("x: cannot write its page index (No space left on device)",
        new java.io.IOException("No space left on device"));
    assertThat(FileFailure.classify(dir.resolve("x"), 0, local)).isInstanceOfSatisfying(FileFailure.Transient.class,
        t -> assertThat(t.message()).contains("No space left"));
  }
}
