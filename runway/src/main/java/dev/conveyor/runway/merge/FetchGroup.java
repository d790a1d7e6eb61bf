package dev.conveyor.runway.merge;

import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jgit.lib.Repository;

/**
 * One queue's fetches into its cache, one at a time (they update the same refs), and grouped as commits
 * are in a group commit: callers that ask while a fetch runs wait for it to end, and the next round
 * fetches every waiting caller's changes at once, one round per remote. A burst of a hundred checks then
 * costs a few fetches instead of a hundred. Each caller's round began after it asked, so it sees the
 * target at least as new as a fetch of its own would have. A round that fails when it served several
 * callers is run again by each of them alone when the failure may be one caller's doing (a refused object,
 * another remote unreachable); an unreachable origin is every caller's failure.
 */
final class FetchGroup {
  /** Fair: a burst of checks must not starve a merge's re-read of the target ({@link #exclusive}). */
  private final ReentrantLock exclusive = new ReentrantLock(true);
  private final Object monitor = new Object();
  private List<Waiter> waiting = new ArrayList<>();
  private boolean leading;
  private long rounds;
  private long served;

  private static final class Waiter {
    final List<ChangeUri> changes;
    RepositoryCache.Advertised result;
    Throwable failure;
    boolean alone;
    boolean done;

    Waiter(List<ChangeUri> changes) {
      this.changes = changes;
    }
  }

  /** Held by a fetch round, and by anything else that fetches into the same cache. */
  ReentrantLock exclusive() {
    return exclusive;
  }

  RepositoryCache.Advertised fetch(RepositoryCache cache, Repository repo, QueueConfig queue, List<ChangeUri> changes)
      throws IOException, MergeRejection {
    Waiter me = new Waiter(changes);
    List<Waiter> round;
    synchronized (monitor) {
      waiting.add(me);
      try {
        while (!me.done && leading) {
          monitor.wait();
        }
      } catch (InterruptedException e) {
        waiting.remove(me); // a round that already took it fetches for nobody: its result is dropped
        Thread.currentThread().interrupt();
        throw new InterruptedIOException("interrupted while waiting to fetch");
      }
      if (me.done) {
        round = null;
      } else {
        leading = true;
        round = waiting;
        waiting = new ArrayList<>();
      }
    }
    if (round != null) {
      lead(cache, repo, queue, round);
    }
    if (me.alone) {
      return alone(cache, repo, queue, changes);
    }
    if (me.failure instanceof MergeRejection r) {
      throw r;
    }
    if (me.failure instanceof IOException e) {
      throw e;
    }
    if (me.failure instanceof RuntimeException e) {
      throw e;
    }
    if (me.failure instanceof Error e) {
      throw e;
    }
    return me.result;
  }

  private void lead(RepositoryCache cache, Repository repo, QueueConfig queue, List<Waiter> round) {
    try {
      Set<ChangeUri> all = new LinkedHashSet<>();
      // a change naming a remote the queue does not have is refused to its caller alone, by resolve
      round.forEach(w -> w.changes.stream().filter(c -> queue.remotes().containsKey(c.remote())).forEach(all::add));
      exclusive.lock();
      try {
        RepositoryCache.Advertised found = cache.fetchRefs(repo, queue, List.copyOf(all));
        round.forEach(w -> w.result = found);
      } finally {
        exclusive.unlock();
      }
    } catch (IOException e) {
      // the origin unreachable concerns everyone: they all hear it (and retry later) rather than queueing
      // for it one by one; a failure that may concern one caller's remote is fetched again by each alone
      boolean originOnly = round.stream().allMatch(w -> w.changes.stream().allMatch(c -> c.remote().equals(
          QueueConfig.ORIGIN)));
      if (round.size() == 1 || originOnly) {
        round.forEach(w -> w.failure = e);
      } else {
        round.forEach(w -> w.alone = true);
      }
    } catch (MergeRejection | RuntimeException e) {
      // a refused object or a missing target may be one caller's change's doing: each fetches alone
      if (round.size() == 1) {
        round.get(0).failure = e;
      } else {
        round.forEach(w -> w.alone = true);
      }
    } catch (Error e) {
      round.forEach(w -> w.failure = e);
    } finally {
      synchronized (monitor) {
        leading = false;
        rounds++;
        served += round.size();
        round.forEach(w -> w.done = true);
        monitor.notifyAll();
      }
    }
  }

  private RepositoryCache.Advertised alone(RepositoryCache cache, Repository repo, QueueConfig queue,
      List<ChangeUri> changes) throws IOException, MergeRejection {
    exclusive.lock();
    try {
      return cache.fetchRefs(repo, queue, changes.stream().filter(c -> queue.remotes().containsKey(c.remote()))
          .toList());
    } finally {
      exclusive.unlock();
    }
  }

  /** Callers waiting for the next round. */
  int waiting() {
    synchronized (monitor) {
      return waiting.size();
    }
  }

  /** Fetch rounds run, and the callers they served (more callers than rounds: fetches were shared). */
  long[] counts() {
    synchronized (monitor) {
      return new long[] {rounds, served};
    }
  }
}
