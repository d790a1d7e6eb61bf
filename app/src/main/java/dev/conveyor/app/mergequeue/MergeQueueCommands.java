package dev.conveyor.app.mergequeue;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.ListRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.api.submitqueue.WatchRequest;
import dev.conveyor.app.cli.ErrorReporter;
import dev.conveyor.app.cli.ServerOption;
import dev.conveyor.app.cli.Table;
import java.io.PrintStream;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** The merge queue's verbs for people: land, status, list, watch, cancel (through the SubmitQueue gateway). */
public final class MergeQueueCommands {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneOffset.UTC);
  private static final Set<RequestInfo.State> TERMINAL =
      Set.of(RequestInfo.State.LANDED, RequestInfo.State.ERROR, RequestInfo.State.CANCELLED);

  private MergeQueueCommands() {}

  @Command(name = "land", mixinStandardHelpOptions = true,
      description = "Ask the merge queue to land a change (several URIs land as one stack, in order, in one push).",
      footer = {"", "A change URI is change://<remote>/<ref>@<40-hex sha>, e.g."
          + " change://origin/refs/heads/feature@0123…; see 'conveyor runway merge --help'."})
  public static final class Land implements Callable<Integer> {
    @Mixin ServerOption server;

    @Option(names = "--queue", required = true, description = "The merge queue.")
    String queue;

    @Option(names = "--strategy", defaultValue = "DEFAULT",
        description = "REBASE, SQUASH_REBASE, MERGE, PROMOTE or DEFAULT (the queue's). Default: ${DEFAULT-VALUE}.")
    Strategy strategy;

    @Option(names = "--watch", description = "Follow the request until it ends; exit 1 unless it LANDED.")
    boolean watch;

    @Option(names = "--priority", defaultValue = "0", description = "Higher is batched and built first (-100 to 100);"
        + " above 0 it never waits for a batch to fill. Default: ${DEFAULT-VALUE}.")
    int priority;

    @Parameters(arity = "1..*", paramLabel = "URI", description = "The change's URIs.")
    List<String> uris;

    @Override
    public Integer call() {
      var landed = GatewayClient.call(server, 30, g -> g.land(LandRequest.newBuilder().setQueue(queue)
          .setStrategy(strategy).setPriority(priority).setChange(Change.newBuilder().addAllUris(uris)).build()));
      System.out.println(landed.getRequestId());
      if (!landed.getNotice().isEmpty()) {
        System.err.println(landed.getNotice()); // stdout stays the request id alone, for scripts
      }
      String id = landed.getRequestId();
      return watch ? follow(server, id, System.out) : 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "A request's state, batch and history.")
  public static final class Status implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "REQUEST_ID", description = "e.g. app/12")
    String id;

    /** --json: {"status": StatusResponse, "history": HistoryResponse} (protobuf JSON of each). */
    @picocli.CommandLine.Mixin dev.conveyor.app.cli.JsonOption json;

    @Override
    public Integer call() {
      var status = GatewayClient.call(server, 30, g -> g.status(StatusRequest.newBuilder().setRequestId(id).build()));
      var history = GatewayClient.call(server, 30, g -> g.history(HistoryRequest.newBuilder().setRequestId(id).build()));
      if (json.on()) {
        System.out.println("{\"status\":" + dev.conveyor.api.ProtoJson.toCompleteJson(status) + ",\"history\":"
            + dev.conveyor.api.ProtoJson.toCompleteJson(history) + "}");
        return 0;
      }
      RequestInfo r = status.getRequest();
      System.out.println(r.getRequestId() + "  " + r.getState() + "  queue " + r.getQueue()
          + (r.getPriority() == 0 ? "" : "  priority " + r.getPriority()) + "  strategy "
          + r.getStrategy());
      r.getChange().getUrisList().forEach(u -> System.out.println("  change " + u));
      if (status.hasBatch()) {
        var b = status.getBatch();
        System.out.println("  batch " + b.getBatchId() + " " + b.getState()
            + (b.getDependsOnCount() == 0 ? "" : ", after " + String.join(", ", b.getDependsOnList())));
      }
      status.getBuildsList().forEach(b -> System.out.println("  build " + b.getBuildId() + " " + b.getState() + " ("
          + b.getAssumptions() + ")  output: conveyor build log " + b.getBuildId()));
      if (!r.getReason().isEmpty()) {
        System.out.println("  reason: " + r.getReason());
      }
      Table table = new Table("AT", "STATE", "NOTE");
      history.getEntriesList().forEach(e -> table.row(TIME.format(Instant.ofEpochMilli(e.getAtMs())),
          e.getEffect().isEmpty() ? e.getState() : "effect", !e.getEffect().isEmpty() ? firstLine(e.getEffect())
              : e.getReason().isEmpty() ? "-" : firstLine(e.getReason())));
      table.print(System.out);
      return 0;
    }
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "Requests of a queue, oldest first.")
  public static final class ListRequests implements Callable<Integer> {
    @Mixin ServerOption server;

    @Option(names = "--queue", description = "Only this queue.")
    String queue;

    @Option(names = "--state", split = ",", description = "Only these states, e.g. BATCHED,VALIDATED.")
    List<RequestInfo.State> states = List.of();

    @Option(names = "--limit", defaultValue = "50", description = "At most this many (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--page", description = "The next-page token a previous listing printed.")
    String page;

    /** --json: conveyor.submitqueue.ListResponse ({"requests": [RequestInfo…], "next_page_token"}). */
    @picocli.CommandLine.Mixin dev.conveyor.app.cli.JsonOption json;

    @Override
    public Integer call() {
      var out = GatewayClient.call(server, 30, g -> g.list(ListRequest.newBuilder()
          .setQueue(queue == null ? "" : queue).addAllStates(states).setLimit(limit)
          .setPageToken(page == null ? "" : page).build()));
      if (json.print(out)) {
        return 0;
      }
      Table table = new Table("REQUEST", "STATE", "PRIORITY", "BATCH", "CHANGE", "REASON");
      out.getRequestsList().forEach(r -> table.row(r.getRequestId(), r.getState(), r.getPriority(),
          r.getBatchId().isEmpty() ? "-" : r.getBatchId(), r.getChange().getUris(0)
              + (r.getChange().getUrisCount() > 1 ? " (+" + (r.getChange().getUrisCount() - 1) + ")" : ""),
          r.getReason().isEmpty() ? "-" : firstLine(r.getReason())));
      table.printOr(System.out, "no requests");
      if (!out.getNextPageToken().isEmpty()) {
        System.out.println("more: --page " + out.getNextPageToken());
      }
      return 0;
    }
  }

  @Command(name = "watch", mixinStandardHelpOptions = true,
      description = "Print a request's state on every change until it ends; exit 1 unless it LANDED.")
  public static final class Watch implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "REQUEST_ID")
    String id;

    @Override
    public Integer call() {
      return follow(server, id, System.out);
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Cancel a request (refused once its batch is being merged).")
  public static final class Cancel implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "REQUEST_ID")
    String id;

    @Override
    public Integer call() {
      var r = GatewayClient.call(server, 30, g -> g.cancel(CancelRequest.newBuilder().setRequestId(id).build()));
      System.out.println(r.getRequest().getRequestId() + "  " + r.getRequest().getState());
      return 0;
    }
  }

  static int follow(ServerOption server, String id, PrintStream out) {
    RequestInfo last = GatewayClient.call(server, 0, g -> {
      RequestInfo seen = null;
      var updates = g.watch(WatchRequest.newBuilder().setRequestId(id).build());
      while (updates.hasNext()) {
        seen = updates.next();
        out.println(TIME.format(Instant.ofEpochMilli(seen.getUpdatedAtMs())) + "  " + seen.getRequestId() + "  "
            + seen.getState() + (seen.getReason().isEmpty() ? "" : "  " + firstLine(seen.getReason())));
      }
      return seen;
    });
    return last != null && last.getState() == RequestInfo.State.LANDED ? 0 : ErrorReporter.EXIT_FAILURE;
  }

  private static String firstLine(String s) {
    int nl = s.indexOf('\n');
    return nl < 0 ? s : s.substring(0, nl) + " …";
  }

  static boolean terminal(RequestInfo.State s) {
    return TERMINAL.contains(s);
  }
}
