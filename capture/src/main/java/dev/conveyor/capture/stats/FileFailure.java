package dev.conveyor.capture.stats;

import dev.conveyor.api.reconcile.UnreadableFile.Cause;
import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SeekableByteChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * What a failed file capture means: an {@link Unreadable} file, whose cause the snapshot records
 * while the rest of the group is captured, or a {@link Transient} fault of the filesystem, which
 * retries the whole group. The cause is decided from what the filesystem and parquet-java said and,
 * where their words are ambiguous, from the file's own head and tail bytes read again.
 */
public sealed interface FileFailure {
  int MAX_MESSAGE_CHARS = 500;
  byte[] MAGIC = "PAR1".getBytes(StandardCharsets.US_ASCII);

  String message();

  record Unreadable(Cause cause, String message) implements FileFailure {}

  record Transient(String message) implements FileFailure {}

  static FileFailure classify(Path file, long plannedSize, FileCaptureException e) {
    String said = said(file, e.getCause() == null ? e : e.getCause());
    if (e.localFault()) {
      return new Transient(said);
    }
    if (has(e, NoSuchFileException.class)) {
      return unreadable(Cause.MISSING, "the file no longer exists");
    }
    if (has(e, AccessDeniedException.class)) {
      return unreadable(Cause.UNREADABLE, "permission denied");
    }
    if (has(e, LinkageError.class) || has(e, ClassNotFoundException.class)
        || has(e, org.apache.parquet.hadoop.BadConfigurationException.class)
        || has(e, UnsupportedOperationException.class)) {
      return unreadable(Cause.UNSUPPORTED, "a codec or encoding this worker cannot decode (" + said + ")");
    }
    if (!Files.exists(file)) {
      return unreadable(Cause.MISSING, "the file no longer exists");
    }
    if (!Files.isRegularFile(file)) {
      return unreadable(Cause.UNREADABLE, "not a regular file");
    }
    long size;
    byte[] head;
    byte[] tail;
    try (SeekableByteChannel ch = Files.newByteChannel(file)) {
      size = ch.size();
      head = read(ch, 0, (int) Math.min(MAGIC.length, size));
      tail = size < 2L * MAGIC.length ? new byte[0] : read(ch, size - MAGIC.length, MAGIC.length);
    } catch (NoSuchFileException gone) {
      return unreadable(Cause.MISSING, "the file no longer exists");
    } catch (AccessDeniedException denied) {
      return unreadable(Cause.UNREADABLE, "permission denied");
    } catch (IOException io) {
      // parquet-java failed and the filesystem cannot even give back 8 bytes: a fault, not the file
      return new Transient("reading it failed: " + said + "; reading it again failed too: " + io.getMessage());
    }
    String sizes = size + " bytes" + (plannedSize > size ? " of the " + plannedSize + " planned" : "");
    if (!Arrays.equals(head, Arrays.copyOf(MAGIC, head.length)) || (size >= MAGIC.length && head.length < MAGIC.length)) {
      return unreadable(Cause.NOT_PARQUET, "no Parquet magic at its head (" + sizes + ")");
    }
    if (size < 2L * MAGIC.length + 4 || !Arrays.equals(tail, MAGIC)) {
      return unreadable(Cause.TRUNCATED, "cut short: " + sizes + ", no Parquet magic at its tail");
    }
    if (plannedSize > size || has(e, EOFException.class) || said.contains("Reached the end")) {
      return unreadable(Cause.TRUNCATED, "cut short: " + sizes + " (" + said + ")");
    }
    return unreadable(Cause.CORRUPT, "a footer or page cannot be decoded (" + said + ")");
  }

  /**
   * For a file read from object storage through a presigned URL: the store's status decides (404 gone;
   * 403 refused, which a new lease's URL may cure, so transient; other HTTP failures and network faults
   * transient), then what parquet-java said about the bytes it got.
   */
  static FileFailure classifyRemote(FileCaptureException e) {
    Throwable cause = e.getCause() == null ? e : e.getCause();
    String said = cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof dev.conveyor.capture.io.RemoteInputFile.RemoteReadException r) {
        return r.status() == 404 ? unreadable(Cause.MISSING, "the object no longer exists")
            : new Transient(r.getMessage());
      }
    }
    if (has(e, java.net.ConnectException.class) || has(e, java.net.http.HttpTimeoutException.class)
        || has(e, java.io.InterruptedIOException.class) || has(e, java.net.SocketException.class)) {
      return new Transient("the store could not be reached: " + said);
    }
    if (has(e, LinkageError.class) || has(e, UnsupportedOperationException.class)) {
      return unreadable(Cause.UNSUPPORTED, "a codec or encoding this worker cannot decode (" + said + ")");
    }
    if (said.contains("magic number")) {
      return unreadable(Cause.NOT_PARQUET, said);
    }
    if (has(e, EOFException.class) || said.contains("Reached the end") || said.contains("reached the end")) {
      return unreadable(Cause.TRUNCATED, "cut short (" + said + ")");
    }
    return unreadable(Cause.CORRUPT, "a footer or page cannot be decoded (" + said + ")");
  }

  private static Unreadable unreadable(Cause cause, String message) {
    return new Unreadable(cause, message.length() <= MAX_MESSAGE_CHARS ? message
        : message.substring(0, MAX_MESSAGE_CHARS - 1) + "…");
  }

  private static byte[] read(SeekableByteChannel ch, long at, int n) throws IOException {
    ByteBuffer buf = ByteBuffer.allocate(n);
    ch.position(at);
    while (buf.hasRemaining() && ch.read(buf) > 0) {
      // keep reading: a channel may answer in pieces
    }
    return Arrays.copyOf(buf.array(), buf.position());
  }

  private static boolean has(Throwable e, Class<? extends Throwable> type) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (type.isInstance(t)) {
        return true;
      }
    }
    return false;
  }

  /** What parquet-java or the filesystem said, with the reader's object names replaced by the file's. */
  private static String said(Path file, Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    m = m.replaceAll("org\\.apache\\.parquet\\.io\\.LocalInputFile@[0-9a-f]+", String.valueOf(file.getFileName()));
    return m.length() <= MAX_MESSAGE_CHARS / 2 ? m : m.substring(0, MAX_MESSAGE_CHARS / 2) + "…";
  }
}
