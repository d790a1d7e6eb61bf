package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.reconcile.lake.ObjectStore;
import dev.conveyor.ledger.Hashing;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * The first connector: a table is a directory of Parquet files (on a filesystem, or an s3:// prefix),
 * and a snapshot is the set of files listed at planning time. The listing is streamed (a directory of a million files is never held in
 * memory) in the directory's own order. The snapshot id digests the set of (path, size, modification
 * time) entries independently of that order — the sum modulo 2^256 of each entry's SHA-256 — so the
 * same files give the same id and any change gives a new one.
 */
public record DirectorySnapshot(String snapshotId, long files, long bytes) {
  private static final BigInteger MOD = BigInteger.ONE.shiftLeft(256);

  /** Lists the directory's {@code .parquet} files into {@code sink}, one at a time. */
  public static DirectorySnapshot scan(Path directory, Consumer<PlannedFile> sink) throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException("connector.location " + directory + " is not a directory");
    }
    Digest digest = new Digest();
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*.parquet")) {
      for (Path p : entries) {
        BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class); // a link counts as its file
        if (attrs.isDirectory()) {
          continue;
        }
        String path = p.toAbsolutePath().toString();
        digest.add(path, attrs.size() + "@" + attrs.lastModifiedTime().toMillis());
        sink.accept(PlannedFile.newBuilder().setPath(path).setSizeBytes(attrs.size()).build());
      }
    }
    return digest.snapshot();
  }

  /**
   * Lists the {@code .parquet} objects directly under an {@code s3://bucket/prefix/} location (one
   * level, as a directory), page by page; an object's version is its size and ETag.
   */
  public static DirectorySnapshot scanObjectStore(ConnectorSpec connector, Consumer<PlannedFile> sink) {
    ObjectStore.S3Location where = ObjectStore.S3Location.parse(connector.getLocation());
    String prefix = where.key().isEmpty() || where.key().endsWith("/") ? where.key() : where.key() + "/";
    String scheme = connector.getLocation().substring(0, connector.getLocation().indexOf("://"));
    Digest digest = new Digest();
    try (ObjectStore store = ObjectStore.open(connector)) {
      var pages = store.client().listObjectsV2Paginator(b -> b.bucket(where.bucket()).prefix(prefix).delimiter("/"));
      for (var page : pages) {
        for (var object : page.contents()) {
          if (!object.key().endsWith(".parquet")) {
            continue;
          }
          String path = scheme + "://" + where.bucket() + "/" + object.key();
          digest.add(path, object.size() + "@" + object.eTag());
          sink.accept(PlannedFile.newBuilder().setPath(path).setSizeBytes(object.size()).build());
        }
      }
    } catch (software.amazon.awssdk.services.s3.model.NoSuchBucketException e) {
      throw new IllegalArgumentException("connector.location " + connector.getLocation() + ": bucket "
          + where.bucket() + " does not exist");
    }
    return digest.snapshot();
  }

  /** The order-independent digest of a listing: the sum modulo 2^256 of each entry's SHA-256. */
  private static final class Digest {
    private BigInteger sum = BigInteger.ZERO;
    private long files;
    private long bytes;

    void add(String path, String version) {
      MessageDigest entry = Hashing.sha256();
      Hashing.update(entry, path);
      Hashing.update(entry, version);
      sum = sum.add(new BigInteger(1, entry.digest())).mod(MOD);
      files++;
      bytes += Long.parseLong(version.substring(0, version.indexOf('@')));
    }

    DirectorySnapshot snapshot() {
      MessageDigest id = Hashing.sha256();
      Hashing.update(id, files + ":" + sum.toString(16));
      return new DirectorySnapshot("dir-" + HexFormat.of().formatHex(id.digest()).substring(0, 16), files, bytes);
    }
  }
}
