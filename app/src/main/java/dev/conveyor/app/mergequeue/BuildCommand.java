package dev.conveyor.app.mergequeue;

import dev.conveyor.api.submitqueue.BuildLogRequest;
import dev.conveyor.api.submitqueue.BuildLogResponse;
import dev.conveyor.app.cli.ServerOption;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** SubmitQueue builds for people: their output, read through the gateway (it takes the gateway's role). */
@Command(name = "build", mixinStandardHelpOptions = true,
    description = "A merge-queue build's output. 'conveyor status REQUEST_ID' lists the request's builds with their ids.",
    subcommands = {BuildCommand.Log.class})
public final class BuildCommand implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "log", mixinStandardHelpOptions = true,
      description = "Print a build's output (secret values masked), page by page; --follow waits for more while it runs.")
  public static final class Log implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "BUILD_ID", description = "As 'conveyor status REQUEST_ID' shows it.")
    String id;

    @Option(names = "--follow", description = "Keep printing until the build ends.")
    boolean follow;

    @Override
    public Integer call() throws InterruptedException {
      long offset = 0;
      while (true) {
        long from = offset;
        BuildLogResponse page = GatewayClient.call(server, 30,
            g -> g.buildLog(BuildLogRequest.newBuilder().setBuildId(id).setOffset(from).build()));
        print(System.out, page.getText());
        offset = page.getNextOffset();
        if (offset < page.getTotal()) {
          continue;
        }
        if (!follow || page.getFinished()) {
          return 0;
        }
        TimeUnit.SECONDS.sleep(1); // a running build's output arrives at its heartbeat; polling is enough
      }
    }
  }

  /** Build output is the build's to choose: terminal control sequences are shown, not obeyed. */
  static void print(PrintStream out, String text) {
    StringBuilder sb = new StringBuilder(text.length());
    text.codePoints().forEach(c -> {
      if (c == '\n' || c == '\t' || !(Character.isISOControl(c) || c == 0x2028 || c == 0x2029 || c == 0x202e)) {
        sb.appendCodePoint(c);
      } else {
        sb.append('\uFFFD');
      }
    });
    out.print(sb);
    out.flush();
  }
}
