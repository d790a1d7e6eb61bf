package dev.conveyor.app.jobs;

import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobProgress;
import dev.conveyor.ledger.jobs.Outcomes.JobTree;
import java.io.PrintStream;

/** Prints a job tree, one line per job, with state, attempts and progress. */
public final class JobTreePrinter {
  private JobTreePrinter() {}

  public static void print(JobTree tree, PrintStream out) {
    dev.conveyor.app.cli.TreeLines.print(tree, JobTree::children, t -> line(t.job()), out);
  }

  static String line(Job job) {
    StringBuilder sb = new StringBuilder()
        .append(job.id()).append("  ").append(job.kind()).append("  ").append(job.state())
        .append("  attempt ").append(job.attempts()).append('/').append(job.maxAttempts());
    JobProgress p = job.progress();
    if (p.total() > 0 || p.done() > 0) {
      sb.append("  ").append(bar(p.done(), p.total())).append(' ').append(p.done()).append('/').append(p.total());
    }
    if (job.leaseOwner() != null) {
      sb.append("  held by ").append(job.leaseOwner());
    }
    if (job.lastError() != null && !job.state().name().equals("SUCCEEDED")) {
      sb.append("  (").append(job.lastError()).append(')');
    }
    return sb.toString();
  }

  public static String bar(long done, long total) {
    int width = 20;
    int filled = total <= 0 ? 0 : (int) Math.min(width, done * width / total);
    return "[" + "#".repeat(filled) + ".".repeat(width - filled) + "]";
  }
}
