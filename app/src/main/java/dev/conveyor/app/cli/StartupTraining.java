package dev.conveyor.app.cli;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.HistoryEntry;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.HistoryResponse;
import dev.conveyor.api.submitqueue.ListRequest;
import dev.conveyor.api.submitqueue.ListResponse;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.api.submitqueue.StatusResponse;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.io.PrintStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.function.Function;
import picocli.CommandLine.Command;

/**
 * The launcher's training call for the CLI's class-data archive: runs {@code list} and {@code status}
 * against a loopback gateway that answers one made-up request, so the archive holds the classes a
 * real answer loads (response decoding, HTTP/2 frames, table printing), not only those of a refused
 * connection. Hidden; it prints nothing and touches no ledger.
 */
@Command(name = "startup-training", hidden = true)
public final class StartupTraining implements Callable<Integer> {
  private final Function<String[], Integer> cli;

  public StartupTraining(Function<String[], Integer> cli) {
    this.cli = cli;
  }

  @Override
  public Integer call() throws Exception {
    Server server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new SampleGateway()).build().start();
    Path token = Files.createTempFile("conveyor-training", ".token");
    PrintStream out = System.out;
    try {
      Files.writeString(token, "training-token-0123456789abcdef\n");
      String address = "127.0.0.1:" + server.getPort();
      System.setOut(new PrintStream(OutputStream.nullOutputStream()));
      int list = cli.apply(new String[] {"list", "--server", address, "--token-file", token.toString()});
      int status = cli.apply(new String[] {"status", "app/1", "--server", address, "--token-file", token.toString()});
      int help = cli.apply(new String[] {"--help"});
      return list == 0 && status == 0 && help == 0 ? 0 : 1;
    } finally {
      System.setOut(out);
      server.shutdownNow();
      Files.deleteIfExists(token);
    }
  }

  private static final class SampleGateway extends GatewayGrpc.GatewayImplBase {
    private static final RequestInfo REQUEST = RequestInfo.newBuilder().setRequestId("app/1").setQueue("app")
        .setState(RequestInfo.State.LANDED).setChange(Change.newBuilder().addUris("git:refs/heads/change"))
        .build();

    @Override
    public void list(ListRequest request, StreamObserver<ListResponse> answer) {
      answer.onNext(ListResponse.newBuilder().addRequests(REQUEST).build());
      answer.onCompleted();
    }

    @Override
    public void status(StatusRequest request, StreamObserver<StatusResponse> answer) {
      answer.onNext(StatusResponse.newBuilder().setRequest(REQUEST).build());
      answer.onCompleted();
    }

    @Override
    public void history(HistoryRequest request, StreamObserver<HistoryResponse> answer) {
      answer.onNext(HistoryResponse.newBuilder().setRequestId(REQUEST.getRequestId())
          .addEntries(HistoryEntry.newBuilder().setState(RequestInfo.State.LANDED).setAtMs(1)).build());
      answer.onCompleted();
    }
  }
}
