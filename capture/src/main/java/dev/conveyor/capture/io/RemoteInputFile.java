package dev.conveyor.capture.io;

import java.io.EOFException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.time.Duration;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.SeekableInputStream;

/**
 * A Parquet file read over HTTP with Range requests from a URL the control plane presigned for the
 * worker's lease: the worker holds no storage credential. Reads go through a window of at least
 * {@link #WINDOW} bytes, so parquet-java's small reads (footer length, page headers) cost one request per
 * window, and a column chunk read in one {@code readFully} costs one request.
 */
public final class RemoteInputFile implements InputFile {
  static final int WINDOW = 1 << 20;
  private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10))
      .followRedirects(HttpClient.Redirect.NORMAL).build();

  private final URI url;
  private final long length;
  private final String name;

  /** {@code length}: the object's planned size; {@code name}: what messages call the file. */
  public RemoteInputFile(URI url, long length, String name) {
    this.url = url;
    this.length = length;
    this.name = name;
  }

  @Override
  public long getLength() {
    return length;
  }

  @Override
  public SeekableInputStream newStream() {
    return new Stream();
  }

  @Override
  public String toString() {
    return name;
  }

  /** The store refused or failed a read: {@code status} says which (404 gone, 403 refused or expired). */
  public static final class RemoteReadException extends IOException {
    private final int status;

    RemoteReadException(String message, int status) {
      super(message);
      this.status = status;
    }

    public int status() {
      return status;
    }
  }

  /** Reads {@code [from, from + n)}; fewer bytes only at the end of the object. */
  private byte[] range(long from, int n) throws IOException {
    HttpRequest request = HttpRequest.newBuilder(url).timeout(Duration.ofMinutes(2))
        .header("Range", "bytes=" + from + "-" + (from + n - 1)).GET().build();
    HttpResponse<byte[]> response;
    try {
      response = HTTP.send(request, HttpResponse.BodyHandlers.ofByteArray());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new InterruptedIOException("reading " + name + " was interrupted");
    }
    int status = response.statusCode();
    if (status == 404) {
      throw new RemoteReadException(name + ": the object no longer exists (HTTP 404)", status);
    }
    if (status == 403) {
      throw new RemoteReadException(name + ": the store refused the read (HTTP 403: the lease's URL expired or"
          + " was revoked)", status);
    }
    if (status == 416) {
      throw new EOFException(name + ": a read at byte " + from + " is past the object's end (HTTP 416)");
    }
    if (status != 206 && status != 200) {
      throw new RemoteReadException(name + ": HTTP " + status + " from the store", status);
    }
    byte[] body = response.body();
    if (status == 200) { // a server that ignores Range sends the whole object
      if (from >= body.length) {
        return new byte[0];
      }
      return java.util.Arrays.copyOfRange(body, (int) from, (int) Math.min(body.length, from + n));
    }
    return body;
  }

  private final class Stream extends SeekableInputStream {
    private long pos;
    private long windowStart = -1;
    private byte[] window = new byte[0];

    @Override
    public long getPos() {
      return pos;
    }

    @Override
    public void seek(long newPos) throws IOException {
      if (newPos < 0) {
        throw new EOFException(name + ": seek to a negative position " + newPos);
      }
      pos = newPos;
    }

    @Override
    public int read() throws IOException {
      byte[] one = new byte[1];
      return read(one, 0, 1) == 1 ? one[0] & 0xff : -1;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
      if (len == 0) {
        return 0;
      }
      if (pos >= length) {
        return -1;
      }
      if (pos < windowStart || pos >= windowStart + window.length) {
        fill(pos, len);
        if (window.length == 0) {
          return -1;
        }
      }
      int n = (int) Math.min(len, windowStart + window.length - pos);
      System.arraycopy(window, (int) (pos - windowStart), b, off, n);
      pos += n;
      return n;
    }

    private void fill(long from, int wanted) throws IOException {
      int n = (int) Math.min(Math.max(wanted, WINDOW), length - from);
      window = range(from, n);
      windowStart = from;
    }

    @Override
    public void readFully(byte[] bytes) throws IOException {
      readFully(bytes, 0, bytes.length);
    }

    @Override
    public void readFully(byte[] bytes, int start, int len) throws IOException {
      int done = 0;
      while (done < len) {
        int n = read(bytes, start + done, len - done);
        if (n < 0) {
          throw new EOFException(name + ": the object ends before the " + len + " bytes asked at " + pos
              + " (reached the end)");
        }
        done += n;
      }
    }

    @Override
    public int read(ByteBuffer buf) throws IOException {
      int len = buf.remaining();
      byte[] tmp = new byte[len];
      int n = read(tmp, 0, len);
      if (n > 0) {
        buf.put(tmp, 0, n);
      }
      return n;
    }

    @Override
    public void readFully(ByteBuffer buf) throws IOException {
      byte[] tmp = new byte[buf.remaining()];
      readFully(tmp);
      buf.put(tmp);
    }
  }
}
