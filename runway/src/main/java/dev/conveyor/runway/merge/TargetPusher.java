package dev.conveyor.runway.merge;

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
 * Moves the target ref with a compare-and-swap: the push carries the tip the merge was built on,
 * and the receiving side refuses it if the ref has moved since. Exactly one ref update per merge.
 */
final class TargetPusher {

  sealed interface PushStatus {
    record Pushed() implements PushStatus {}

    record TipMoved(String detail) implements PushStatus {}

    record Refused(String detail) implements PushStatus {}
  }

  PushStatus push(Repository repo, String url, dev.conveyor.runway.queue.RemoteAuth auth, String targetRef,
      ObjectId expectedTip, ObjectId newTip) throws IOException {
    URIish uri;
    try {
      uri = new URIish(url);
    } catch (URISyntaxException e) {
      throw new IOException("invalid remote URL '" + url + "': " + e.getMessage(), e);
    }
    try (Transport transport = RemoteTransports.open(repo, uri, auth)) {
      RemoteRefUpdate update = new RemoteRefUpdate(repo, null, newTip, targetRef, false, null, expectedTip);
      transport.push(NullProgressMonitor.INSTANCE, List.of(update));
      String detail = update.getMessage() == null ? "" : ": " + update.getMessage();
      return switch (update.getStatus()) {
        case OK, UP_TO_DATE -> new PushStatus.Pushed();
        case REJECTED_REMOTE_CHANGED, REJECTED_NONFASTFORWARD -> new PushStatus.TipMoved(update.getStatus() + detail);
        case REJECTED_NODELETE, REJECTED_OTHER_REASON, NON_EXISTING ->
            new PushStatus.Refused(update.getStatus() + detail);
        default -> throw new IOException("push of " + targetRef + " to " + url + " ended " + update.getStatus() + detail);
      };
    }
  }
}
