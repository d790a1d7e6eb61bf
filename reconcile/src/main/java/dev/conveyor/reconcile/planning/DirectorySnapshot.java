package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.ledger.Hashing;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/**
 * The first connector: a table is a directory of Parquet files, and a snapshot is the set of files
 * listed at planning time. Its id is a digest of the (path, size, modification time) list, so the
 * same files give the same snapshot id and any change gives a new one.
 */
public record DirectorySnapshot(String snapshotId, List<PlannedFile> files) {

  public static DirectorySnapshot list(Path directory) throws IOException {
    if (!Files.isDirectory(directory)) {
      throw new IllegalArgumentException("connector.location " + directory + " is not a directory");
    }
    List<Path> paths;
    try (Stream<Path> s = Files.list(directory)) {
      paths = s.filter(p -> p.getFileName().toString().endsWith(".parquet") && !Files.isDirectory(p)).sorted().toList();
    }
    MessageDigest digest = Hashing.sha256();
    List<PlannedFile> files = new java.util.ArrayList<>();
    for (Path p : paths) {
      long size = Files.size(p);
      Hashing.update(digest, p.toAbsolutePath().toString());
      Hashing.update(digest, size + "@" + Files.getLastModifiedTime(p).toMillis());
      files.add(PlannedFile.newBuilder().setPath(p.toAbsolutePath().toString()).setSizeBytes(size).build());
    }
    return new DirectorySnapshot("dir-" + HexFormat.of().formatHex(digest.digest()).substring(0, 16), List.copyOf(files));
  }
}
