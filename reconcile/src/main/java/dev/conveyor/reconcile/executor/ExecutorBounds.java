package dev.conveyor.reconcile.executor;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.bounds.InvalidField;
import dev.conveyor.api.reconcile.FileResult;
import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.Progress;
import dev.conveyor.api.reconcile.SubmitLeasedFileGroupExecutionResultRequest;
import java.util.List;

/** The bounds of the worker protocol's composite fields: progress and file-group results. */
final class ExecutorBounds {
  private ExecutorBounds() {}

  static Progress progress(String field, Progress p) {
    Bounds.range(field + ".files_total", p.getFilesTotal(), 0, Long.MAX_VALUE);
    Bounds.range(field + ".files_done", p.getFilesDone(), 0, Long.MAX_VALUE);
    Bounds.range(field + ".files_failed", p.getFilesFailed(), 0, Long.MAX_VALUE);
    Bounds.range(field + ".bytes_done", p.getBytesDone(), 0, Long.MAX_VALUE);
    Bounds.text(field + ".message", p.getMessage());
    return p;
  }

  /** A result lists each planned file at most once, so no list may be longer than the group. */
  static void submit(SubmitLeasedFileGroupExecutionResultRequest req, LeasedFileGroupExecution group) {
    int planned = group.getFilePathsCount();
    switch (req.getOutcomeCase()) {
      // a success's entries are each checked against the plan (FileGroupResults), which bounds them too
      case SUCCESS -> fileResults("success.file_results", req.getSuccess().getFileResultsList(), Integer.MAX_VALUE);
      case FAILURE -> {
        Bounds.text("failure.message", req.getFailure().getMessage());
        fileResults("failure.file_results", req.getFailure().getFileResultsList(), planned);
      }
      case CHUNKED_SUCCESS -> {
        Bounds.range("chunked_success.chunk_count", req.getChunkedSuccess().getChunkCount(), 1, ResultChunks.MAX_CHUNKS);
        Bounds.range("chunked_success.size_bytes", req.getChunkedSuccess().getSizeBytes(), 0, Long.MAX_VALUE);
        Bounds.required("chunked_success.sha256", req.getChunkedSuccess().getSha256(), 64);
      }
      default -> throw new InvalidField("outcome", "one of success, chunked_success or failure is required");
    }
  }

  private static void fileResults(String field, List<FileResult> results, int planned) {
    Bounds.list(field, results, planned);
    for (FileResult r : results) {
      Bounds.required(field + ".path", r.getPath(), Bounds.MAX_URI_BYTES);
      Bounds.text(field + ".message", r.getMessage());
    }
  }
}
