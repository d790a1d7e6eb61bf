package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.PlannedFile;
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
 * The first connector: a table is a directory of Parquet files, and a snapshot is the set of files
 * listed at planning time. The listing is streamed (a directory of a million files is never held in
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
    BigInteger sum = BigInteger.ZERO;
    long files = 0;
    long bytes = 0;
    try (DirectoryStream<Path> entries = Files.newDirectoryStream(directory, "*.parquet")) {
      for (Path p : entries) {
        BasicFileAttributes attrs = Files.readAttributes(p, BasicFileAttributes.class); // a link counts as its file
        if (attrs.isDirectory()) {
          continue;
        }
        String path = p.toAbsolutePath().toString();
        MessageDigest entry = Hashing.sha256();
        Hashing.update(entry, path);
        Hashing.update(entry, attrs.size() + "@" + attrs.lastModifiedTime().toMillis());
        sum = sum.add(new BigInteger(1, entry.digest())).mod(MOD);
        files++;
        bytes += attrs.size();
        sink.accept(PlannedFile.newBuilder().setPath(path).setSizeBytes(attrs.size()).build());
      }
    }
    MessageDigest id = Hashing.sha256();
    Hashing.update(id, files + ":" + sum.toString(16));
    return new DirectorySnapshot("dir-" + HexFormat.of().formatHex(id.digest()).substring(0, 16), files, bytes);
  }
}
