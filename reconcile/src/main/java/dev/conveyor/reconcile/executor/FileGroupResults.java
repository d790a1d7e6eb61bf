package dev.conveyor.reconcile.executor;

import com.google.protobuf.CodedOutputStream;
import dev.conveyor.api.catalog.StatsTarget;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.FileGroupSuccess;
import dev.conveyor.api.reconcile.FileResult;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import dev.conveyor.api.reconcile.UnreadableFile;
import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.bounds.InvalidField;
import dev.conveyor.ledger.Tx;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.sql.SQLException;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.Set;

/** The rules of a file group's result: what it must cover, how it is hashed, how its stats are stored. */
final class FileGroupResults {
  static final String SUCCESS_SUFFIX = ":success";
  static final String FAILURE_SUFFIX = ":failure";

  private FileGroupResults() {}

  /** The request's bytes without the lease epoch: a retry after re-lease with the same payload replays. */
  static byte[] canonical(SubmitLeasedFileGroupExecutionResultRequest request) {
    try {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      CodedOutputStream out = CodedOutputStream.newInstance(bytes);
      out.useDeterministicSerialization();
      request.toBuilder().clearLeaseEpoch().build().writeTo(out);
      out.flush();
      return bytes.toByteArray();
    } catch (IOException e) {
      throw new IllegalStateException("in-memory serialization failed", e);
    }
  }

  static String resultId(SubmitLeasedFileGroupExecutionResultRequest request) {
    return switch (request.getOutcomeCase()) {
      case SUCCESS -> requireSuffix(request.getSuccess().getResultId(), SUCCESS_SUFFIX, "success.result_id");
      case FAILURE -> requireSuffix(request.getFailure().getResultId(), FAILURE_SUFFIX, "failure.result_id");
      case CHUNKED_SUCCESS -> requireSuffix(request.getChunkedSuccess().getResultId(), SUCCESS_SUFFIX,
          "chunked_success.result_id");
      default -> throw new IllegalArgumentException("outcome: one of success, chunked_success or failure is required");
    };
  }

  static String requireSuccessId(String id, String field) {
    return requireSuffix(id, SUCCESS_SUFFIX, field);
  }

  private static String requireSuffix(String id, String suffix, String field) {
    Bounds.id(field, id);
    if (!id.endsWith(suffix)) {
      throw new IllegalArgumentException(field + " '" + id + "' must end with '" + suffix
          + "' (success and failure never share a result id)");
    }
    return id;
  }

  /**
   * A success must account for every planned file exactly once and name none outside the group. A
   * file it could not read is listed with ok = false and a cause, and has no statistics or artifact;
   * with page index requested, every readable file has one artifact.
   */
  static void validateSuccess(FileGroupSuccess success, LeasedFileGroupExecution group) {
    Set<String> planned = new LinkedHashSet<>(group.getFilePathsList());
    Set<String> reported = new HashSet<>();
    Set<String> unreadable = new HashSet<>();
    for (FileResult r : success.getFileResultsList()) {
      requirePlanned(planned, r.getPath(), "file_results", group);
      if (!reported.add(r.getPath())) {
        throw new InvalidField("file_results", "field 'file_results' names '" + r.getPath() + "' twice");
      }
      Bounds.text("file_results.message", r.getMessage());
      if (!r.getOk()) {
        if (r.getCause() == UnreadableFile.Cause.CAUSE_UNSPECIFIED || r.getCause() == UnreadableFile.Cause.UNRECOGNIZED) {
          throw new InvalidField("file_results.cause", "field 'file_results.cause' is missing for '" + r.getPath()
              + "', which is not ok: say why (MISSING, TRUNCATED, NOT_PARQUET, UNSUPPORTED, CORRUPT, UNREADABLE)");
        }
        unreadable.add(r.getPath());
      }
    }
    for (String path : planned) {
      if (!reported.contains(path)) {
        throw new IllegalArgumentException("file_results has no entry for planned file '" + path + "' of group "
            + group.getGroupId());
      }
    }
    for (TargetStatsRecord rec : success.getStatsRecordsList()) {
      StatsTarget t = rec.getTarget();
      String path = t.hasFile() ? t.getFile().getPath() : t.hasFileColumn() ? t.getFileColumn().getPath() : null;
      if (path != null) {
        requirePlanned(planned, path, "stats_records", group);
        requireReadable(unreadable, path, "stats_records");
      }
    }
    if (group.getCapturePolicy().getPageIndex()) {
      Set<String> covered = new HashSet<>();
      for (var artifact : success.getIndexArtifactsList()) {
        requirePlanned(planned, artifact.getRecord().getSourceFile(), "index_artifacts", group);
        requireReadable(unreadable, artifact.getRecord().getSourceFile(), "index_artifacts");
        String actual = sha256(artifact.getContent().toByteArray());
        if (!actual.equals(artifact.getRecord().getArtifactId())) {
          throw new IllegalArgumentException("index_artifacts: the content for '" + artifact.getRecord().getSourceFile()
              + "' hashes to " + actual + ", not to its artifact_id " + artifact.getRecord().getArtifactId());
        }
        covered.add(artifact.getRecord().getSourceFile());
      }
      for (String path : planned) {
        if (!covered.contains(path) && !unreadable.contains(path)) {
          throw new IllegalArgumentException("index_artifacts has no page index for planned file '" + path + "'");
        }
      }
    }
  }

  private static void requireReadable(Set<String> unreadable, String path, String field) {
    if (unreadable.contains(path)) {
      throw new IllegalArgumentException(field + " has an entry for '" + path + "', which file_results calls unreadable");
    }
  }

  /**
   * Keeps each unreadable file of the success with its cause, and forgets an earlier capture's verdict
   * on a file that is readable now; answers how many unreadable files the group had.
   */
  static int storeUnreadable(Tx tx, String jobId, FileGroupSuccess success, LeasedFileGroupExecution group)
      throws SQLException {
    int unreadable = 0;
    for (FileResult r : success.getFileResultsList()) {
      if (r.getOk()) {
        tx.update("DELETE FROM capture_unreadable_files WHERE table_id = ? AND snapshot_id = ? AND path = ?",
            group.getTableId(), group.getSnapshotId(), r.getPath());
        continue;
      }
      unreadable++;
      tx.update("INSERT INTO capture_unreadable_files (table_id, snapshot_id, path, cause, message, job_id, created_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, snapshot_id, path) DO UPDATE SET cause = excluded.cause,"
          + " message = excluded.message, job_id = excluded.job_id, created_at = excluded.created_at",
          group.getTableId(), group.getSnapshotId(), r.getPath(), r.getCause().name(), r.getMessage(), jobId,
          tx.nowMillis());
    }
    return unreadable;
  }

  private static void requirePlanned(Set<String> planned, String path, String field, LeasedFileGroupExecution g) {
    if (!planned.contains(path)) {
      throw new IllegalArgumentException(field + " names '" + path + "', which is not a file of group "
          + g.getGroupId());
    }
  }

  /** Stores each statistic once per (table, snapshot, target); answers how many were new. */
  static int storeStats(Tx tx, String jobId, FileGroupSuccess success) throws SQLException {
    int written = 0;
    for (TargetStatsRecord rec : success.getStatsRecordsList()) {
      written += tx.update("INSERT INTO capture_stats (table_id, snapshot_id, target_key, record, job_id, created_at)"
          + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", rec.getTableId(), rec.getSnapshotId(),
          targetKey(rec.getTarget()), rec.toByteArray(), jobId, tx.nowMillis());
    }
    return written;
  }

  /** Keeps each artifact's bytes in the store and its record (with the store's URI) in the ledger. */
  static int storeArtifacts(Tx tx, String jobId, FileGroupSuccess success,
      dev.conveyor.reconcile.artifacts.ArtifactStore store) throws SQLException {
    int written = 0;
    for (var artifact : success.getIndexArtifactsList()) {
      var record = artifact.getRecord();
      String uri;
      try {
        uri = store.put(record.getArtifactId(), artifact.getContent().toByteArray());
      } catch (IOException e) {
        throw new java.io.UncheckedIOException("cannot store artifact " + record.getArtifactId(), e);
      }
      written += tx.update("INSERT INTO capture_artifacts (table_id, snapshot_id, source_file, artifact_id, record,"
          + " job_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", record.getTableId(),
          record.getSnapshotId(), record.getSourceFile(), record.getArtifactId(),
          record.toBuilder().setUri(uri).build().toByteArray(), jobId, tx.nowMillis());
    }
    return written;
  }

  static String sha256(byte[] bytes) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }

  static String targetKey(StatsTarget t) {
    return switch (t.getTargetCase()) {
      case TABLE -> "table";
      case FILE -> "file:" + t.getFile().getPath();
      case COLUMN -> "column:" + t.getColumn().getColumn();
      case FILE_COLUMN -> "file_column:" + t.getFileColumn().getPath() + "#" + t.getFileColumn().getColumn();
      default -> throw new IllegalArgumentException("stats_records has a record without a target");
    };
  }
}
