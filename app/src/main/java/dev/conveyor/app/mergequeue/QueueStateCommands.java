package dev.conveyor.app.mergequeue;

import dev.conveyor.api.submitqueue.GetQueueStateRequest;
import dev.conveyor.api.submitqueue.QueueControlGrpc;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.QueueStateInfo;
import dev.conveyor.api.submitqueue.RevertRequest;
import dev.conveyor.api.submitqueue.RevertResponse;
import dev.conveyor.api.submitqueue.SetQueueStateRequest;
import dev.conveyor.app.cli.ServerOption;
import java.io.PrintStream;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Pause, drain and resume a merge queue, and show its state (the QueueControl service; the admin role). */
public final class QueueStateCommands {
  private QueueStateCommands() {}

  abstract static class Change implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "QUEUE", description = "The merge queue, e.g. app.")
    String queue;

    @Option(names = "--reason", defaultValue = "", description = "Why (kept in the queue's state log).")
    String reason;

    abstract QueueState state();

    @Override
    public Integer call() {
      String by = System.getProperty("user.name", "unknown") + "@" + host();
      QueueStateInfo info = control(server, c -> c.setQueueState(SetQueueStateRequest.newBuilder().setQueue(queue)
          .setState(state()).setReason(reason).setChangedBy(by).build()));
      print(info, System.out);
      return 0;
    }
  }

  @Command(name = "pause", mixinStandardHelpOptions = true, description = "Pause a merge queue: lands are still"
      + " accepted, but no new build or merge starts (running builds finish, merges under way complete).")
  public static final class Pause extends Change {
    @Override
    QueueState state() {
      return QueueState.QUEUE_PAUSED;
    }
  }

  @Command(name = "drain", mixinStandardHelpOptions = true, description = "Drain a merge queue: new lands are"
      + " refused and what is active finishes; 'state' shows when nothing is left.")
  public static final class Drain extends Change {
    @Override
    QueueState state() {
      return QueueState.QUEUE_DRAINING;
    }
  }

  @Command(name = "resume", mixinStandardHelpOptions = true, description = "Resume a paused or draining merge queue.")
  public static final class Resume extends Change {
    @Override
    QueueState state() {
      return QueueState.QUEUE_ACTIVE;
    }
  }

  @Command(name = "state", mixinStandardHelpOptions = true,
      description = "A merge queue's state, what is still active, and its last state changes.")
  public static final class Show implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "QUEUE", description = "The merge queue, e.g. app.")
    String queue;

    /** --json: conveyor.submitqueue.QueueStateInfo (protobuf JSON). */
    @Mixin dev.conveyor.app.cli.JsonOption json;

    @Override
    public Integer call() {
      var state = control(server, c -> c.getQueueState(GetQueueStateRequest.newBuilder().setQueue(queue).build()));
      if (!json.print(state)) {
        print(state, System.out);
      }
      return 0;
    }
  }

  @Command(name = "revert", mixinStandardHelpOptions = true, description = {"Take back a LANDED request through"
      + " its queue: a commit reverting exactly the request's own commits is made on the target's tip, pushed to"
      + " refs/conveyor/<queue>/revert/<n>, and landed as an urgent request (built and merged like any change).",
      "A queue that post-merge verification paused (main red) is resumed so the revert can land. Needs the admin"
      + " role."})
  public static final class Revert implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "REQUEST", description = "The landed request, e.g. app/7 (the culprit a red main names).")
    String request;

    @Override
    public Integer call() {
      String by = System.getProperty("user.name", "unknown") + "@" + host();
      RevertResponse done = control(server, c -> c.revert(RevertRequest.newBuilder().setRequestId(request)
          .setChangedBy(by).build()));
      System.out.println("reverting " + request + " as " + done.getRevertRequestId() + " (commit "
          + done.getCommit().substring(0, Math.min(12, done.getCommit().length())) + " on " + done.getRef() + ")");
      if (done.getResumed()) {
        System.out.println("the queue was paused by post-merge verification and is resumed for the revert");
      }
      System.out.println("follow it with: conveyor watch " + done.getRevertRequestId());
      return 0;
    }
  }

  static void print(QueueStateInfo info, PrintStream out) {
    out.println(info.getQueue() + "  " + name(info.getState()) + (info.getChangedBy().isEmpty() ? ""
        : "  since " + Instant.ofEpochMilli(info.getChangedAtMs()) + " by " + info.getChangedBy())
        + (info.getReason().isEmpty() ? "" : ": " + info.getReason()));
    out.println("  active requests " + info.getActiveRequests() + ", running builds " + info.getRunningBuilds()
        + (info.getState() == QueueState.QUEUE_DRAINING && info.getActiveRequests() == 0 ? "  (drained)" : ""));
    for (var c : info.getHistoryList()) {
      out.println("  " + Instant.ofEpochMilli(c.getAtMs()) + "  " + name(c.getState()) + "  by " + c.getChangedBy()
          + (c.getReason().isEmpty() ? "" : ": " + c.getReason()));
    }
  }

  private static String name(QueueState s) {
    return switch (s) {
      case QUEUE_PAUSED -> "PAUSED";
      case QUEUE_DRAINING -> "DRAINING";
      default -> "ACTIVE";
    };
  }

  private static String host() {
    try {
      return java.net.InetAddress.getLocalHost().getHostName();
    } catch (java.io.IOException e) {
      return "localhost";
    }
  }

  private static <T> T control(ServerOption server, Function<QueueControlGrpc.QueueControlBlockingStub, T> call) {
    var channel = server.channel();
    try {
      var stub = QueueControlGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      var creds = server.credentials();
      return call.apply(creds == null ? stub : stub.withCallCredentials(creds));
    } finally {
      channel.shutdownNow();
    }
  }
}
