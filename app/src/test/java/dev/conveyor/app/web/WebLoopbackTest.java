package dev.conveyor.app.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP side on a loopback bind needs no login, but only for requests addressed to a loopback
 * name: a browser that resolved a foreign name to 127.0.0.1 (DNS rebinding) sends that name as Host,
 * and must not be able to read the status or build logs for the foreign page.
 */
class WebLoopbackTest {
  @TempDir Path dir;
  private ControlPlane plane;

  @AfterEach
  void stop() {
    if (plane != null) {
      plane.close();
    }
  }

  /** A raw HTTP/1.1 GET with the given Host header (java.net.http will not send a foreign Host). */
  private String get(String path, String host) throws Exception {
    try (Socket s = new Socket("127.0.0.1", plane.httpPort())) {
      OutputStream out = s.getOutputStream();
      out.write(("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
          .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      try (InputStream in = s.getInputStream()) {
        return new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
    }
  }

  @Test
  void aForeignHostIsRefusedOnEveryRouteAndLoopbackNamesAreServed() throws Exception {
    Path data = dir.resolve("data");
    plane = ControlPlane.start(new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.LOCAL, null, null, false, 1, new CapturePlanner.Limits(2, 1L << 30), null, 0, 0));
    int port = plane.httpPort();
    for (String path : java.util.List.of("/", "/api/status", "/metrics", "/api/builds/b1/log")) {
      for (String foreign : java.util.List.of("rebind.attacker.example:" + port, "rebind.attacker.example",
          "127.0.0.1.attacker.example:" + port, "localhost.attacker.example")) {
        String r = get(path, foreign);
        assertThat(r).as(path + " Host " + foreign).startsWith("HTTP/1.1 403")
            .contains("not a loopback address").doesNotContain("{\"");
      }
    }
    for (String local : java.util.List.of("127.0.0.1:" + port, "localhost:" + port, "LOCALHOST", "127.0.0.2:" + port)) {
      assertThat(get("/api/status", local)).as(local).startsWith("HTTP/1.1 200").contains("{\"");
    }
  }

  @Test
  void loopbackHostNames() {
    assertThat(WebAuth.loopbackHost("[::1]:7421")).isTrue();
    assertThat(WebAuth.loopbackHost("[::1]")).isTrue();
    assertThat(WebAuth.loopbackHost("127.255.0.1")).isTrue();
    assertThat(WebAuth.loopbackHost("[::2]:7421")).isFalse();
    assertThat(WebAuth.loopbackHost("127.0.0.256")).isFalse();
    assertThat(WebAuth.loopbackHost("localhost:7421@evil")).isFalse();
    assertThat(WebAuth.loopbackHost("10.0.0.1:7421")).isFalse();
  }
}
