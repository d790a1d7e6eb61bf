package dev.conveyor.app.capture;

import dev.conveyor.api.reconcile.JobInfo;
import dev.conveyor.api.reconcile.JobTreeNode;
import java.io.PrintStream;

/** A capture job tree for people: state, progress bar and error per job, completeness per finalized snapshot. */
final class TreeView {
  private TreeView() {}

  static void print(JobTreeNode node, PrintStream out) {
    dev.conveyor.app.cli.TreeLines.print(node, JobTreeNode::getChildrenList, n -> line(n.getJob()), out);
  }

  static String line(JobInfo j) {
    StringBuilder sb = new StringBuilder(j.getJobId()).append("  ").append(j.getKind().name().substring(4))
        .append("  ").append(j.getState().name().substring(4));
    var p = j.getProgress();
    if (p.getFilesTotal() > 0) {
      int filled = (int) Math.min(20, p.getFilesDone() * 20 / p.getFilesTotal());
      sb.append("  [").append("#".repeat(filled)).append(".".repeat(20 - filled)).append("] ")
          .append(p.getFilesDone()).append('/').append(p.getFilesTotal()).append(" files");
    }
    if (!j.getLeaseOwner().isEmpty()) {
      sb.append("  on ").append(j.getLeaseOwner());
    }
    if (j.hasCompleteness()) {
      sb.append("  ").append(dev.conveyor.reconcile.planning.CaptureCompleteness.describe(j.getCompleteness()));
    }
    if (!j.getLastError().isEmpty() && !j.getState().name().endsWith("SUCCEEDED")) {
      sb.append("  (").append(j.getLastError()).append(')');
    }
    return sb.toString();
  }
}
