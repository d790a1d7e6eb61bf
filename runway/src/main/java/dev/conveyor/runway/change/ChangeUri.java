package dev.conveyor.runway.change;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Repository;

/**
 * One commit to land, named by the remote it lives in, a ref that contains it and its full SHA:
 * {@code change://<remote>/<ref>@<sha>}. The ref is fetched (servers need not serve arbitrary
 * SHAs) and must contain the SHA, so a change cannot smuggle in a commit from elsewhere. A ref
 * not starting with {@code refs/} is a branch name.
 */
public record ChangeUri(String remote, String ref, ObjectId sha) {
  public static final String SCHEME = "change://";
  public static final String FORM = "change://<remote>/<ref>@<40-hex sha>";

  private static final Pattern SHAPE = Pattern.compile("change://([A-Za-z0-9][A-Za-z0-9_.-]*)/(.+)@([^@]*)");
  private static final Pattern FULL_SHA = Pattern.compile("[0-9a-fA-F]{40}");

  public ChangeUri {
    if (!Repository.isValidRefName(ref)) {
      throw new IllegalArgumentException("'" + ref + "' is not a valid git ref name");
    }
  }

  public static ChangeUri parse(String uri) throws InvalidChangeUriException {
    if (uri == null || uri.isBlank()) {
      throw new InvalidChangeUriException(uri, "it is empty");
    }
    if (!uri.startsWith(SCHEME)) {
      throw new InvalidChangeUriException(uri, "only the change:// scheme is accepted");
    }
    Matcher m = SHAPE.matcher(uri);
    if (!m.matches()) {
      throw new InvalidChangeUriException(uri, "it needs a remote name, a ref and a commit after '@'");
    }
    String sha = m.group(3);
    if (!FULL_SHA.matcher(sha).matches()) {
      throw new InvalidChangeUriException(uri, "'" + sha + "' is not a full 40-character hex commit id"
          + " (abbreviated ids are ambiguous)");
    }
    String ref = m.group(2).startsWith("refs/") ? m.group(2) : "refs/heads/" + m.group(2);
    if (!Repository.isValidRefName(ref)) {
      throw new InvalidChangeUriException(uri, "'" + m.group(2) + "' is not a valid git ref name");
    }
    return new ChangeUri(m.group(1), ref, ObjectId.fromString(sha.toLowerCase(Locale.ROOT)));
  }

  /** The ref shortened for messages: {@code feature/x} rather than {@code refs/heads/feature/x}. */
  public String shortRef() {
    return Repository.shortenRefName(ref);
  }

  @Override
  public String toString() {
    return SCHEME + remote + "/" + ref + "@" + sha.name();
  }
}
