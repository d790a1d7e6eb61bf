package dev.conveyor.runway.merge;

import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jgit.errors.MissingObjectException;
import org.eclipse.jgit.lib.NullProgressMonitor;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.Ref;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.eclipse.jgit.transport.FetchConnection;
import org.eclipse.jgit.transport.RefSpec;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.URIish;

/**
 * One bare cache repository per queue under a root directory. It has no work tree, so merges
 * happen in memory and a dry run can never leave files behind; only fetches move its refs, all
 * under {@code refs/runway/}.
 */
public final class RepositoryCache implements AutoCloseable {
  private final Path root;
  private final Map<String, Repository> open = new ConcurrentHashMap<>();

  public RepositoryCache(Path root) {
    this.root = root;
  }

  /** The tip of the target branch and the verified head commit of every change URI. */
  public record Fetched(ObjectId tip, Map<ChangeUri, RevCommit> heads) {}

  Repository repository(QueueConfig queue) throws IOException {
    Repository existing = open.get(queue.name());
    if (existing != null) {
      return existing;
    }
    synchronized (open) {
      Repository repo = open.get(queue.name());
      if (repo == null) {
        Path dir = root.resolve(queue.name().replaceAll("[^A-Za-z0-9_.-]", "_") + ".git");
        Files.createDirectories(dir.getParent());
        repo = FileRepositoryBuilder.create(dir.toFile());
        if (!Files.exists(dir.resolve("HEAD"))) {
          repo.create(true);
        } else {
          removeStaleLocks(dir);
        }
        open.put(queue.name(), repo);
      }
      return repo;
    }
  }

  /**
   * A process killed mid-fetch leaves git lock files behind, and every later fetch would fail on
   * them. The cache belongs to one process (never share a cache directory), so whatever locks exist
   * when this process first opens it are stale.
   */
  private static void removeStaleLocks(Path dir) throws IOException {
    try (var files = Files.walk(dir)) {
      for (Path p : files.filter(f -> f.getFileName().toString().endsWith(".lock")).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /**
   * Fetches the target branch and every change ref in one round per remote, before anything is
   * applied, then checks that each ref still contains the commit its URI names.
   */
  public Fetched fetch(Repository repo, RevWalk walk, QueueConfig queue, List<ChangeUri> changes)
      throws IOException, MergeRejection {
    return resolve(walk, queue, changes, fetchRefs(repo, queue, changes));
  }

  /**
   * What one fetch round found: the target's tip, and the advertised tip of each change ref fetched (by
   * remote and ref). A ref the remote does not have is simply absent: {@link #resolve} reports it for the
   * change that named it, so one round can serve several callers' changes.
   */
  public record Advertised(ObjectId tip, Map<String, ObjectId> refTips) {
    public Advertised {
      refTips = Map.copyOf(refTips);
    }

    ObjectId refTip(ChangeUri c) {
      return refTips.get(c.remote() + " " + c.ref());
    }
  }

  /** Fetches the target branch and every change ref in one round per remote. */
  public Advertised fetchRefs(Repository repo, QueueConfig queue, List<ChangeUri> changes)
      throws IOException, MergeRejection {
    Map<String, List<ChangeUri>> byRemote = new LinkedHashMap<>();
    byRemote.put(QueueConfig.ORIGIN, new ArrayList<>());
    for (ChangeUri c : changes) {
      if (!queue.remotes().containsKey(c.remote())) {
        throw new MergeRejection(null, "change " + c + " names remote '" + c.remote() + "', but queue '"
            + queue.name() + "' has only " + queue.remotes().keySet());
      }
      byRemote.computeIfAbsent(c.remote(), r -> new ArrayList<>()).add(c);
    }
    ObjectId tip = null;
    Map<String, ObjectId> refTips = new HashMap<>();
    for (Map.Entry<String, List<ChangeUri>> e : byRemote.entrySet()) {
      String alias = e.getKey();
      List<String> wanted = new ArrayList<>();
      if (alias.equals(QueueConfig.ORIGIN)) {
        wanted.add(queue.targetRef());
      }
      e.getValue().forEach(c -> wanted.add(c.ref()));
      Map<String, ObjectId> advertised = fetchPatiently(repo, alias, queue.remotes().get(alias), queue.authFor(alias), wanted,
          e.getValue().size() == 1 ? "change " + e.getValue().get(0)
              : e.getValue().isEmpty() ? "target branch '" + queue.branch() + "'"
              : "one of the changes " + e.getValue());
      if (alias.equals(QueueConfig.ORIGIN)) {
        tip = advertised.get(queue.targetRef());
        if (tip == null) {
          throw new MergeRejection(null, "target branch '" + queue.branch() + "' does not exist in "
              + queue.origin());
        }
      }
      for (ChangeUri c : e.getValue()) {
        ObjectId refTip = advertised.get(c.ref());
        if (refTip != null) {
          refTips.put(alias + " " + c.ref(), refTip);
        }
      }
    }
    return new Advertised(tip, refTips);
  }

  /**
   * Checks {@code changes} against a fetch round that covered them: each ref exists and still contains
   * the commit its URI names, and the commits pass the object checks.
   */
  public Fetched resolve(RevWalk walk, QueueConfig queue, List<ChangeUri> changes, Advertised fetched)
      throws IOException, MergeRejection {
    Map<ChangeUri, RevCommit> heads = new LinkedHashMap<>();
    for (ChangeUri c : changes) {
      if (!queue.remotes().containsKey(c.remote())) {
        throw new MergeRejection(null, "change " + c + " names remote '" + c.remote() + "', but queue '"
            + queue.name() + "' has only " + queue.remotes().keySet());
      }
      ObjectId refTip = fetched.refTip(c);
      if (refTip == null) {
        throw new MergeRejection(null, "change " + c + ": ref '" + c.ref() + "' does not exist in remote '"
            + c.remote() + "'");
      }
      RevCommit head;
      try {
        head = walk.parseCommit(c.sha());
      } catch (MissingObjectException e) {
        throw new MergeRejection(null, "change " + c + ": commit " + c.sha().name() + " is not in ref '"
            + c.ref() + "' of remote '" + c.remote() + "' (the ref is at " + refTip.name() + ")");
      } catch (org.eclipse.jgit.errors.IncorrectObjectTypeException e) {
        throw new MergeRejection(null, "change " + c + ": " + c.sha().name() + " is not a commit");
      }
      if (!head.equals(refTip) && !walk.isMergedInto(head, walk.parseCommit(refTip))) {
        throw new MergeRejection(null, "change " + c + ": commit " + c.sha().name() + " is not in ref '"
            + c.ref() + "' of remote '" + c.remote() + "' (the ref is at " + refTip.name() + ")");
      }
      heads.put(c, head);
    }
    ObjectFsck.checkChanges(walk.getObjectReader(), heads, fetched.tip());
    return new Fetched(fetched.tip(), heads);
  }

  /** Re-reads the target's tip after a push lost the race. */
  public ObjectId fetchTarget(Repository repo, QueueConfig queue) throws IOException, MergeRejection {
    ObjectId tip = fetchPatiently(repo, QueueConfig.ORIGIN, queue.origin(), queue.auth(), List.of(queue.targetRef()),
        "target branch '" + queue.branch() + "'").get(queue.targetRef());
    if (tip == null) {
      throw new MergeRejection(null, "target branch '" + queue.branch() + "' was deleted from " + queue.origin());
    }
    return tip;
  }

  /**
   * Fetches the wanted refs that exist, checking every object received; returns the advertised id
   * of each wanted ref found. A malformed object is refused, naming {@code fetching}.
   */
  private static Map<String, ObjectId> fetchRefs(Repository repo, String alias, String url,
      dev.conveyor.runway.queue.RemoteAuth auth, List<String> wanted,
      String fetching) throws IOException, MergeRejection {
    URIish uri;
    try {
      uri = new URIish(url);
    } catch (URISyntaxException e) {
      throw new IOException("remote '" + alias + "' has an invalid URL '" + url + "': " + e.getMessage(), e);
    }
    try (Transport transport = RemoteTransports.open(repo, uri, auth)) {
      if (!uri.isRemote() && GIT_UPLOAD_PACK) {
        // a repository on this machine: any command but JGit's own name makes JGit fork it (never sent to a host)
        transport.setOptionUploadPack("git upload-pack --strict");
      }
      ObjectFsck.Checker checker = ObjectFsck.checkFetches(transport);
      Map<String, Ref> refs;
      try (FetchConnection connection = transport.openFetch()) {
        refs = connection.getRefsMap();
      }
      Map<String, ObjectId> found = new HashMap<>();
      List<RefSpec> specs = new ArrayList<>();
      for (String ref : wanted) {
        Ref r = refs.get(ref);
        if (r != null && r.getObjectId() != null && found.put(ref, r.getObjectId()) == null) {
          specs.add(new RefSpec("+" + ref + ":" + localRef(alias, ref)));
        }
      }
      if (!specs.isEmpty()) {
        try {
          transport.fetch(NullProgressMonitor.INSTANCE, specs);
        } catch (IOException e) { // TransportException wrapping the checker's CorruptObjectException
          if (checker.finding() != null) {
            throw new MergeRejection(null, fetching + ": " + checker.finding().describe());
          }
          throw e;
        }
      }
      return found;
    }
  }

  /**
   * {@link #fetchRefs}, run again with backoff after a transient failure (a loose-object rename race,
   * a lock held by another writer, a dropped connection), a bounded number of times.
   */
  private static Map<String, ObjectId> fetchPatiently(Repository repo, String alias, String url,
      dev.conveyor.runway.queue.RemoteAuth auth, List<String> wanted,
      String fetching) throws IOException, MergeRejection {
    for (int round = 1; ; round++) {
      try {
        return fetchRefs(repo, alias, url, auth, wanted, fetching);
      } catch (IOException | org.eclipse.jgit.api.errors.JGitInternalException e) {
        if (!GitFailures.isTransient(e) || round >= FETCH_TRIES) {
          throw e;
        }
        try {
          Thread.sleep(Math.min(2_000, 100L << (round - 1)));
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          throw new java.io.InterruptedIOException("interrupted while waiting to fetch again");
        }
      }
    }
  }

  private static final int FETCH_TRIES = 5;

  /**
   * Whether a repository on this machine is fetched from by git's own upload-pack. JGit's in-process
   * transport joins the two ends with 1 KiB pipes; when both fill theirs during negotiation, each end
   * waits out a one-second poll (PipedInputStream), and with many refs in the cache most fetches stalled
   * so. Without git on PATH the in-process transport is used as before.
   */
  static final boolean GIT_UPLOAD_PACK = onPath("git");

  private static boolean onPath(String command) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(java.io.File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, command))) {
        return true;
      }
    }
    return false;
  }

  static String localRef(String alias, String remoteRef) {
    return "refs/runway/" + alias + "/" + remoteRef.substring("refs/".length());
  }

  @Override
  public void close() {
    open.values().forEach(Repository::close);
    open.clear();
  }
}
