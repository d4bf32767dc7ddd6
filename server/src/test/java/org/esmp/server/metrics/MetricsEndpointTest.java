package org.esmp.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.atomic.AtomicReference;
import org.esmp.api.Reply;
import org.esmp.server.config.ServerConfig;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The metrics port's HTTP over a real loopback socket, with a readiness the test sets. */
class MetricsEndpointTest {

  private final AtomicReference<String> notReady = new AtomicReference<>("starting");
  private ServerMetrics metrics;
  private MetricsEndpoint endpoint;

  @BeforeEach
  void start() throws Exception {
    metrics = ServerMetrics.prometheus(type -> type.equals("text"));
    endpoint = MetricsEndpoint.start(new ServerConfig.Metrics(true, 0, "127.0.0.1"), metrics, notReady::get);
  }

  @AfterEach
  void stop() {
    endpoint.close();
    metrics.close();
  }

  /** One exchange on its own connection: the status line, the headers and the body. */
  private String exchange(String request) throws Exception {
    try (Socket socket = new Socket("127.0.0.1", endpoint.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return new String(socket.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  private String get(String path) throws Exception {
    return exchange("GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  }

  @Test
  void readyFollowsTheServersReadiness() throws Exception {
    String starting = get("/ready");
    assertTrue(starting.startsWith("HTTP/1.1 503 "), starting);
    assertTrue(starting.endsWith("\r\n\r\nnot ready: starting\n"), starting);
    notReady.set(null);
    String ready = get("/ready");
    assertTrue(ready.startsWith("HTTP/1.1 200 "), ready);
    assertTrue(ready.endsWith("\r\n\r\nready\n"), ready);
    notReady.set("stopping");
    assertTrue(get("/ready").startsWith("HTTP/1.1 503 "));
  }

  @Test
  void metricsAreThePrometheusTextOfTheMeters() throws Exception {
    metrics.answered("text", Reply.ack());
    String response = get("/metrics");
    assertTrue(response.startsWith("HTTP/1.1 200 "), response);
    assertTrue(response.toLowerCase().contains("content-type: text/plain; version=0.0.4; charset=utf-8"), response);
    assertTrue(response.contains("esmp_messages_total{outcome=\"accepted\",type=\"text\"} 1.0"), response);
    assertTrue(response.contains("jvm_threads_live_threads "), response);
  }

  @Test
  void aKeptAliveConnectionServesSeveralRequests() throws Exception {
    try (Socket socket = new Socket("127.0.0.1", endpoint.port())) {
      socket.setSoTimeout(10_000);
      OutputStream out = socket.getOutputStream();
      BufferedReader in = new BufferedReader(new InputStreamReader(socket.getInputStream(), StandardCharsets.UTF_8));
      for (int i = 0; i < 3; i++) {
        out.write("GET /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
        out.flush();
        assertEquals("HTTP/1.1 200 OK", in.readLine());
        int length = -1;
        for (String header; !(header = in.readLine()).isEmpty(); ) {
          if (header.toLowerCase().startsWith("content-length:")) {
            length = Integer.parseInt(header.substring("content-length:".length()).trim());
          }
        }
        char[] body = new char[length];
        assertEquals(length, in.read(body));
        assertEquals("ok\n", new String(body));
      }
    }
  }

  @Test
  void answersOnlyItsPathsAndMethods() throws Exception {
    assertTrue(get("/").startsWith("HTTP/1.1 404 "));
    assertTrue(get("/metrics/x").startsWith("HTTP/1.1 404 "));
    String post = exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx");
    assertTrue(post.startsWith("HTTP/1.1 405 "), post);
    assertTrue(post.toLowerCase().contains("allow: get, head"), post);
    String head = exchange("HEAD /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assertTrue(head.startsWith("HTTP/1.1 200 ") && head.endsWith("\r\n\r\n"), head);
  }

  @Test
  void aRequestLargerThanTheLimitIsRefused() throws Exception {
    String big = "x".repeat(MetricsEndpoint.MAX_REQUEST * 2);
    String response = exchange("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: " + big.length()
        + "\r\nConnection: close\r\n\r\n" + big);
    assertTrue(response.startsWith("HTTP/1.1 413 "), response);
  }

  @Test
  void aTakenPortIsNamedInTheFailure() throws Exception {
    try (ServerSocket taken = new ServerSocket()) {
      taken.bind(new InetSocketAddress("127.0.0.1", 0));
      MetricsEndpoint.BindFailedException e = assertThrows(MetricsEndpoint.BindFailedException.class,
          () -> MetricsEndpoint.start(new ServerConfig.Metrics(true, taken.getLocalPort(), "127.0.0.1"), metrics,
              () -> null));
      assertTrue(e.getMessage().startsWith("127.0.0.1:" + taken.getLocalPort() + ": "), e.getMessage());
    }
    MetricsEndpoint.BindFailedException unknown = assertThrows(MetricsEndpoint.BindFailedException.class,
        () -> MetricsEndpoint.start(new ServerConfig.Metrics(true, 0, "no-such-host.invalid"), metrics, () -> null));
    assertTrue(unknown.getMessage().startsWith("no-such-host.invalid:0: "), unknown.getMessage());
  }
}
