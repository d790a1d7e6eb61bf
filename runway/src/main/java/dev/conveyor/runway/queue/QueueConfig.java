package dev.conveyor.runway.queue;

import dev.conveyor.api.base.Strategy;
import java.util.Map;
import java.util.TreeMap;
import org.eclipse.jgit.lib.Repository;

/**
 * One merge queue: the repository that owns its target branch (remote {@code origin}), any
 * further remotes changes may be fetched from, the target branch, the strategy a {@code DEFAULT}
 * step means, and how many times a push is tried when the target moved underneath it.
 */
public record QueueConfig(String name, Map<String, String> remotes, String branch, Strategy defaultStrategy,
    int pushAttempts, RemoteAuth auth) {
  public static final String ORIGIN = "origin";
  public static final int DEFAULT_PUSH_ATTEMPTS = 3;

  public QueueConfig {
    if (name == null || name.isBlank()) {
      throw new IllegalArgumentException("queue name must not be empty");
    }
    remotes = Map.copyOf(remotes);
    if (!remotes.containsKey(ORIGIN) || remotes.get(ORIGIN).isBlank()) {
      throw new IllegalArgumentException("queue '" + name + "' needs a remote (the repository of its target branch)");
    }
    if (branch == null || !Repository.isValidRefName("refs/heads/" + branch)) {
      throw new IllegalArgumentException("queue '" + name + "': '" + branch + "' is not a valid branch name");
    }
    if (defaultStrategy == null || defaultStrategy == Strategy.DEFAULT || defaultStrategy == Strategy.UNRECOGNIZED) {
      throw new IllegalArgumentException("queue '" + name + "': its default strategy must be one of REBASE,"
          + " SQUASH_REBASE, MERGE or PROMOTE");
    }
    if (auth == null) {
      throw new IllegalArgumentException("queue '" + name + "': remote auth must be set (RemoteAuth.NONE for none)");
    }
    boolean secretOverHttp = auth instanceof RemoteAuth.Bearer || auth instanceof RemoteAuth.Basic;
    if (secretOverHttp && !(remotes.get(ORIGIN).matches("(?i)https://.*")
        || remotes.get(ORIGIN).matches("(?i)http://(127\\.0\\.0\\.1|localhost|\\[::1\\])([:/].*)?"))) {
      throw new IllegalArgumentException("queue." + name + ".remote-auth = " + (auth instanceof RemoteAuth.Bearer
          ? "bearer" : "basic") + " needs an https remote (plain http only on loopback), not " + remotes.get(ORIGIN));
    }
    for (var r : remotes.entrySet()) {
      boolean ssh = r.getValue().startsWith("ssh://") || r.getValue().matches("[^/]+@[^/]+:.*");
      if (ssh && !(ORIGIN.equals(r.getKey()) && auth instanceof RemoteAuth.Ssh)) {
        throw new IllegalArgumentException("queue." + name + (ORIGIN.equals(r.getKey()) ? ".remote" : ".remotes."
            + r.getKey()) + " is an ssh remote: " + (ORIGIN.equals(r.getKey())
            ? "set remote-auth = ssh with remote-ssh-key and remote-known-hosts"
            : "only the origin may be reached over ssh") + " (the server user's ~/.ssh is never used)");
      }
    }
    if (auth instanceof RemoteAuth.Ssh && !(remotes.get(ORIGIN).startsWith("ssh://")
        || remotes.get(ORIGIN).matches("[^/]+@[^/]+:.*"))) {
      throw new IllegalArgumentException("queue." + name + ".remote-auth = ssh needs an ssh remote (ssh://user@host/path"
          + " or user@host:path), not " + remotes.get(ORIGIN));
    }
    if (pushAttempts < 1) {
      throw new IllegalArgumentException("queue '" + name + "': push attempts must be at least 1");
    }
  }

  public static QueueConfig of(String name, String remote, String branch, Strategy defaultStrategy) {
    return new QueueConfig(name, Map.of(ORIGIN, remote), branch, defaultStrategy, DEFAULT_PUSH_ATTEMPTS, RemoteAuth.NONE);
  }

  /** With {@code auth} for the origin (an ssh remote cannot exist without its key and known hosts). */
  public static QueueConfig of(String name, String remote, String branch, Strategy defaultStrategy, RemoteAuth auth) {
    return new QueueConfig(name, Map.of(ORIGIN, remote), branch, defaultStrategy, DEFAULT_PUSH_ATTEMPTS, auth);
  }

  public QueueConfig withRemote(String alias, String url) {
    Map<String, String> all = new TreeMap<>(remotes);
    all.put(alias, url);
    return new QueueConfig(name, all, branch, defaultStrategy, pushAttempts, auth);
  }

  public QueueConfig withPushAttempts(int n) {
    return new QueueConfig(name, remotes, branch, defaultStrategy, n, auth);
  }

  /** Signs in to the origin with {@code a}. */
  public QueueConfig withAuth(RemoteAuth a) {
    return new QueueConfig(name, remotes, branch, defaultStrategy, pushAttempts, a);
  }

  /** How to sign in to the remote {@code alias}: the configured auth for the origin, none for others. */
  public RemoteAuth authFor(String alias) {
    return ORIGIN.equals(alias) ? auth : RemoteAuth.NONE;
  }

  public String origin() {
    return remotes.get(ORIGIN);
  }

  public String targetRef() {
    return "refs/heads/" + branch;
  }

  /** What a step's strategy means on this queue. */
  public Strategy resolve(Strategy requested) {
    return requested == Strategy.DEFAULT ? defaultStrategy : requested;
  }
}
