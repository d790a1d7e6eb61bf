package dev.conveyor.runway.merge;

import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import java.net.URISyntaxException;
import java.util.List;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.RemoteRefUpdate;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;

/**
 * Staging refs on a queue's remote ({@code refs/conveyor/<queue>/<build>}): trees under test that an
 * external CI builds. Only refs under {@code refs/conveyor/} are ever written or removed here, so a
 * mistake can never move a branch.
 */
public final class StagingRefs {
  public static final String PREFIX = "refs/conveyor/";

  private StagingRefs() {}

  /**
   * The staging ref of build {@code build} of speculative path {@code path}:
   * {@code refs/conveyor/<queue>/<path>/<build>} (one ref per build: a path built again by a new build
   * never shares, moves or loses another build's ref); refused when git would refuse the name.
   */
  public static String of(String queue, String path, String build) {
    return of(queue, path.replace('#', '-') + "/" + build);
  }

  /** {@code refs/conveyor/<queue>/<name>}, refused when git would refuse it. */
  public static String of(String queue, String name) {
    String ref = PREFIX + queue + "/" + name.replace('#', '-');
    if (!Repository.isValidRefName(ref)) {
      throw new IllegalArgumentException("'" + ref + "' is not a valid git ref name (queue '" + queue + "')");
    }
    return ref;
  }

  /** Force-points {@code ref} at {@code commit}. */
  static void push(Repository repo, QueueConfig queue, ObjectId commit, String ref) throws IOException {
    update(repo, queue, ref, new RemoteRefUpdate(repo, null, commit, ref, true, null, null), "pushing ");
  }

  /** Deletes {@code ref} while it points at {@code expected}; a ref gone or moved on is left as it is. */
  static void remove(Repository repo, QueueConfig queue, String ref, ObjectId expected) throws IOException {
    update(repo, queue, ref, new RemoteRefUpdate(repo, (String) null, ref, false, null, expected), "removing ");
  }

  private static void update(Repository repo, QueueConfig queue, String ref, RemoteRefUpdate update, String doing)
      throws IOException {
    if (!ref.startsWith(PREFIX) || !Repository.isValidRefName(ref)) {
      throw new IllegalArgumentException("not a staging ref: " + ref);
    }
    URIish uri;
    try {
      uri = new URIish(queue.origin());
    } catch (URISyntaxException e) {
      throw new IOException("invalid remote URL '" + queue.origin() + "': " + e.getMessage(), e);
    }
    try (Transport transport = RemoteTransports.open(repo, uri, queue.auth())) {
      transport.push(NullProgressMonitor.INSTANCE, List.of(update));
      switch (update.getStatus()) {
        case OK, UP_TO_DATE, NON_EXISTING, REJECTED_REMOTE_CHANGED -> { }
        default -> throw new IOException(doing + ref + " on " + queue.origin() + " ended " + update.getStatus()
            + (update.getMessage() == null ? "" : ": " + update.getMessage()));
      }
    }
  }
}
