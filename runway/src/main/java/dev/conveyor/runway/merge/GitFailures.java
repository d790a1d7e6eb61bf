package dev.conveyor.runway.merge;

import dev.conveyor.ledger.FailureKind;
import java.util.List;
import java.util.Locale;
import org.eclipse.jgit.errors.LockFailedException;
import org.eclipse.jgit.errors.NoRemoteRepositoryException;
import org.eclipse.jgit.errors.ObjectWritingException;

/**
 * What a git failure means: {@link #isTransient} (a ref or object lock held by someone else, a loose
 * object rename race, a connection reset or timed out; the same operation will succeed later) or
 * {@link #isRefusal} (the remote does not exist or will not let us in; retrying cannot help). Anything
 * else (disk, corrupt cache) is neither, and is retried a bounded number of times by its caller.
 */
public final class GitFailures {
  /** How git and JGit say "someone else holds the lock" or "the connection went away". */
  private static final List<String> TRANSIENT = List.of("failed to lock", "lock file exists", "cannot lock ref",
      "lock error", ".lock': file exists", "connection reset", "broken pipe", "timed out", "timeout",
      "remote hung up", "connection refused", "short read", "unexpected end of file");
  private static final List<String> REFUSAL = List.of("repository not found", "not found", "not authorized",
      "authentication is required", "authentication failed", "permission denied",
      "does not appear to be a git repository");

  private GitFailures() {}

  public static boolean isTransient(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof TransientGitException || t instanceof LockFailedException
          || t instanceof ObjectWritingException) {
        return true;
      }
      if (mentions(t, TRANSIENT)) {
        return true;
      }
    }
    return FailureKind.of(error) == FailureKind.UNAVAILABLE; // sockets
  }

  /** A push status detail (the remote's words) that means "busy, try again". */
  static boolean isTransientRefusal(String detail) {
    return detail != null && TRANSIENT.stream().anyMatch(detail.toLowerCase(Locale.ROOT)::contains);
  }

  /** The remote answered that it does not exist or will not let us in. */
  public static boolean isRefusal(Throwable error) {
    if (isTransient(error)) {
      return false;
    }
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof NoRemoteRepositoryException || mentions(t, REFUSAL)) {
        return true;
      }
    }
    return false;
  }

  /** A local write race (loose object rename, ref lock) in a cache repository: run the operation again. */
  static boolean isWriteRace(Throwable error) {
    for (Throwable t = error; t != null; t = t.getCause() == t ? null : t.getCause()) {
      if (t instanceof LockFailedException || t instanceof ObjectWritingException) {
        return true;
      }
    }
    return false;
  }

  private static boolean mentions(Throwable t, List<String> phrases) {
    String m = t.getMessage() == null ? "" : t.getMessage().toLowerCase(Locale.ROOT);
    return phrases.stream().anyMatch(m::contains);
  }

  /** A remote still busy (or unreachable) after the bounded retries inside one merge: retry later. */
  public static final class TransientGitException extends java.io.IOException {
    private static final long serialVersionUID = 1L;

    public TransientGitException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
