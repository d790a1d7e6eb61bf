package dev.conveyor.app.durability;

import com.google.protobuf.ByteString;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.durability.Cursor;
import dev.conveyor.api.durability.DurabilityGrpc;
import dev.conveyor.api.durability.Effect;
import dev.conveyor.api.durability.EffectState;
import dev.conveyor.api.durability.FollowSignalsRequest;
import dev.conveyor.api.durability.GetCursorRequest;
import dev.conveyor.api.durability.GetSummaryRequest;
import dev.conveyor.api.durability.ListEffectsRequest;
import dev.conveyor.api.durability.ListEffectsResponse;
import dev.conveyor.api.durability.ReadSignalsRequest;
import dev.conveyor.api.durability.ReadSignalsResponse;
import dev.conveyor.api.durability.Signal;
import dev.conveyor.api.durability.SignalEvent;
import dev.conveyor.api.durability.Summary;
import dev.conveyor.app.cli.ServerOption;
import dev.conveyor.app.cli.Table;
import io.grpc.ManagedChannel;
import java.io.PrintStream;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** Reading the Durability service: a stream's signals, effect claims, a consumer's cursor, a subject's summary. */
@Command(name = "durability", mixinStandardHelpOptions = true,
    description = "The durability contract any runtime uses over gRPC (conveyor.durability.Durability): signal"
        + " streams with ledger-assigned sequences, durable cursors, effect claims, summaries. These commands read"
        + " it (the durability-reader role; the node's local token has it).",
    subcommands = {DurabilityCommand.Signals.class, DurabilityCommand.Effects.class, DurabilityCommand.CursorCmd.class,
        DurabilityCommand.SummaryCmd.class})
public final class DurabilityCommand implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "signals", mixinStandardHelpOptions = true,
      description = "A stream partition's signals in sequence order; with --follow, then each new one as it commits"
          + " (Ctrl-C stops). Signals retention collected are reported as a gap.")
  public static final class Signals implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "STREAM")
    String stream;

    @Option(names = "--partition", defaultValue = "default", description = "The partition (default: ${DEFAULT-VALUE}).")
    String partition;

    @Option(names = "--after", defaultValue = "0", paramLabel = "N", description = "Only sequences after N (default 0).")
    long after;

    @Option(names = "--limit", defaultValue = "100", description = "At most this many, 1..1000 (default: ${DEFAULT-VALUE});"
        + " not with --follow.")
    int limit;

    @Option(names = "--follow", description = "Keep printing signals as they are emitted.")
    boolean follow;

    @Option(names = "--json", description = "JSON (protobuf field names; payloads base64): one object, or with --follow"
        + " one event per line.")
    boolean json;

    @Override
    public Integer call() {
      if (limit < 1 || limit > 1000) {
        throw new IllegalArgumentException("--limit must be between 1 and 1000, got " + limit);
      }
      if (follow) {
        return rpc(server, false, stub -> {
          Iterator<SignalEvent> events = stub.followSignals(FollowSignalsRequest.newBuilder().setStream(stream)
              .setPartition(partition).setAfterSequence(after).build());
          while (events.hasNext()) {
            SignalEvent e = events.next();
            if (json) {
              System.out.println(ProtoJson.toCompleteJson(e).replace("\n", ""));
            } else if (e.hasGap()) {
              printGap(e.getGap().getRequestedAfter(), e.getGap().getFirstRetained(), System.out);
            } else {
              System.out.println(line(e.getSignal()));
            }
            System.out.flush();
          }
          return 0;
        });
      }
      ReadSignalsResponse page = rpc(server, true, stub -> stub.readSignals(ReadSignalsRequest.newBuilder()
          .setStream(stream).setPartition(partition).setAfterSequence(after).setLimit(limit).build()));
      if (json) {
        System.out.println(ProtoJson.toCompleteJson(page));
        return 0;
      }
      if (page.hasGap()) {
        printGap(page.getGap().getRequestedAfter(), page.getGap().getFirstRetained(), System.out);
      }
      if (page.getSignalsCount() == 0) {
        System.out.println("no signals after " + after + " in " + stream + "/" + partition + " (last sequence "
            + page.getLastSequence() + ")");
        return 0;
      }
      page.getSignalsList().forEach(s -> System.out.println(line(s)));
      long shownTo = page.getSignals(page.getSignalsCount() - 1).getSequence();
      if (shownTo < page.getLastSequence()) {
        System.out.println("… more up to " + page.getLastSequence() + ": --after " + shownTo);
      }
      return 0;
    }

    private static String line(Signal s) {
      return s.getSequence() + "  " + Instant.ofEpochMilli(s.getEmittedAtMs()) + "  " + s.getIntentId() + "  "
          + shown(s.getPayload());
    }

    private static void printGap(long requestedAfter, long firstRetained, PrintStream out) {
      out.println("gap: sequences " + (requestedAfter + 1) + ".." + (firstRetained - 1)
          + " were collected by retention; the first retained is " + firstRetained);
    }
  }

  @Command(name = "effects", mixinStandardHelpOptions = true,
      description = "Effect claims, newest change first: who holds one and until when, or its result once completed.")
  public static final class Effects implements Callable<Integer> {
    @Mixin ServerOption server;

    @Option(names = "--subject", description = "Only this subject's effects.")
    String subject;

    @Option(names = "--state", paramLabel = "held|completed|released", description = "Only effects in this state.")
    String state;

    @Option(names = "--limit", defaultValue = "100", description = "At most this many, 1..10000 (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "JSON: {\"effects\": [...]} (protobuf field names; results base64).")
    boolean json;

    @Override
    public Integer call() {
      if (limit < 1 || limit > 10_000) {
        throw new IllegalArgumentException("--limit must be between 1 and 10000, got " + limit);
      }
      EffectState wanted = state == null ? EffectState.EFFECT_STATE_UNSPECIFIED : parseState(state);
      List<Effect> effects = new ArrayList<>();
      boolean[] more = {false};
      rpc(server, true, stub -> {
        String token = "";
        do {
          ListEffectsResponse page = stub.listEffects(ListEffectsRequest.newBuilder()
              .setSubject(subject == null ? "" : subject).setState(wanted)
              .setLimit(Math.min(1000, limit - effects.size())).setPageToken(token).build());
          effects.addAll(page.getEffectsList());
          token = page.getNextPageToken();
        } while (!token.isEmpty() && effects.size() < limit);
        more[0] = !token.isEmpty();
        return null;
      });
      if (json) {
        System.out.println(ProtoJson.toCompleteJson(ListEffectsResponse.newBuilder().addAllEffects(effects).build()));
        return 0;
      }
      Table table = new Table("SUBJECT", "KEY", "STATE", "HOLDER", "TAKEOVERS", "CHANGED", "DETAIL");
      for (Effect e : effects) {
        table.row(e.getSubject(), e.getKey(), e.getState(), e.getHolder().isEmpty() ? "-" : e.getHolder(),
            e.getTransitions(), Instant.ofEpochMilli(e.getUpdatedAtMs()), detail(e));
      }
      table.printOr(System.out, "no effects" + (subject == null ? "" : " of " + subject)
          + (state == null ? "" : " in state " + state.toLowerCase(Locale.ROOT)));
      if (more[0]) {
        System.out.println("… more: raise --limit");
      }
      return 0;
    }

    private static EffectState parseState(String s) {
      return switch (s.toLowerCase(Locale.ROOT)) {
        case "held" -> EffectState.HELD;
        case "completed" -> EffectState.COMPLETED;
        case "released" -> EffectState.RELEASED;
        default -> throw new IllegalArgumentException("--state must be held, completed or released, got '" + s + "'");
      };
    }

    static String detail(Effect e) {
      return switch (e.getState()) {
        case HELD -> "until " + Instant.ofEpochMilli(e.getExpiresAtMs());
        case COMPLETED -> "result " + shown(e.getResult());
        default -> "-";
      };
    }
  }

  @Command(name = "cursor", mixinStandardHelpOptions = true,
      description = "A consumer's durable cursor on a stream partition: the position it committed, its lease"
          + " holder, epoch and lease expiry.")
  public static final class CursorCmd implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(index = "0", paramLabel = "CONSUMER")
    String consumer;

    @Parameters(index = "1", paramLabel = "STREAM")
    String stream;

    @Option(names = "--partition", defaultValue = "default", description = "The partition (default: ${DEFAULT-VALUE}).")
    String partition;

    @Option(names = "--json", description = "JSON (protobuf field names).")
    boolean json;

    @Override
    public Integer call() {
      Cursor c = rpc(server, true, stub -> stub.getCursor(GetCursorRequest.newBuilder().setConsumer(consumer)
          .setStream(stream).setPartition(partition).build()));
      if (json) {
        System.out.println(ProtoJson.toCompleteJson(c));
      } else if (c.getEpoch() == 0) {
        System.out.println("consumer " + consumer + " has no cursor on " + stream + "/" + partition + " (position 0)");
      } else {
        System.out.println("consumer " + consumer + " on " + stream + "/" + c.getPartition() + ": position "
            + c.getPosition() + ", epoch " + c.getEpoch() + ", held by " + c.getHolder() + " until "
            + Instant.ofEpochMilli(c.getLeaseExpiresAtMs()));
      }
      return 0;
    }
  }

  @Command(name = "summary", mixinStandardHelpOptions = true,
      description = "A subject's newest effects and signals with counts by state, computed from its claims and"
          + " stream at this call.")
  public static final class SummaryCmd implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "SUBJECT")
    String subject;

    @Option(names = "--limit", defaultValue = "20", description = "The newest this many of each, 1..100 (default:"
        + " ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--json", description = "JSON (protobuf field names).")
    boolean json;

    @Override
    public Integer call() {
      Summary s = rpc(server, true, stub -> stub.getSummary(GetSummaryRequest.newBuilder().setSubject(subject)
          .setLimit(limit).build()));
      if (json) {
        System.out.println(ProtoJson.toCompleteJson(s));
        return 0;
      }
      System.out.println(subject + ": " + s.getHeld() + " held, " + s.getCompleted() + " completed, "
          + s.getReleased() + " released");
      for (Effect e : s.getRecentEffectsList()) {
        System.out.println("  effect " + e.getKey() + "  " + e.getState() + "  " + Effects.detail(e));
      }
      for (Signal g : s.getRecentSignalsList()) {
        System.out.println("  signal " + g.getPartition() + "#" + g.getSequence() + "  " + g.getIntentId());
      }
      return 0;
    }
  }

  /** Text as text; anything else as its size. */
  static String shown(ByteString bytes) {
    if (bytes.isEmpty()) {
      return "(empty)";
    }
    try {
      String text = StandardCharsets.UTF_8.newDecoder().decode(bytes.asReadOnlyByteBuffer()).toString();
      if (text.chars().noneMatch(c -> Character.isISOControl(c) && c != '\t')) {
        return text.length() > 120 ? text.substring(0, 120) + "…" : text;
      }
    } catch (CharacterCodingException e) {
      // binary
    }
    return "<" + bytes.size() + " bytes>";
  }

  private static <T> T rpc(ServerOption server, boolean deadline,
      Function<DurabilityGrpc.DurabilityBlockingStub, T> call) {
    ManagedChannel channel = server.channel();
    try {
      var stub = DurabilityGrpc.newBlockingStub(channel);
      if (deadline) {
        stub = stub.withDeadlineAfter(30, TimeUnit.SECONDS);
      }
      var creds = server.credentials();
      return call.apply(creds == null ? stub : stub.withCallCredentials(creds));
    } finally {
      channel.shutdownNow();
    }
  }
}
