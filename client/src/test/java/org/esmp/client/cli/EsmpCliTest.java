package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import org.esmp.client.Messages;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/** The CLI's own behaviour, in process: exit codes and error lines. */
@Timeout(30)
class EsmpCliTest {

  @TempDir Path dir;

  private final ByteArrayOutputStream out = new ByteArrayOutputStream();
  private final ByteArrayOutputStream err = new ByteArrayOutputStream();

  private int esmp(String... args) {
    return EsmpCli.run(new PrintWriter(out, true, UTF_8), new PrintWriter(err, true, UTF_8), args);
  }

  @Test
  void keygenRefusesToOverwriteAnIdentity() throws IOException {
    Path id = dir.resolve("me.json");
    assertEquals(0, esmp("--identity", id.toString(), "keygen", "alice#example.com"));
    String before = Files.readString(id);
    assertEquals(1, esmp("--identity", id.toString(), "keygen", "alice#example.com"));
    assertEquals(before, Files.readString(id));
    assertTrue(err.toString(UTF_8).contains("already exists"), err.toString(UTF_8));
  }

  @Test
  void aServerErrorIsOneLineWithItsCodeAndExitCode1() throws Exception {
    Path id = dir.resolve("me.json");
    assertEquals(0, esmp("--identity", id.toString(), "keygen", "alice#example.com"));
    try (ServerSocket server = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread fake = new Thread(() -> answerWithError(server));
      fake.setDaemon(true);
      fake.start();
      err.reset();
      int code = esmp("--server", "127.0.0.1:" + server.getLocalPort(), "--identity", id.toString(),
          "group", "post", "some-group", "hello");
      assertEquals(1, code);
      assertEquals("esmp: server error not_member: you are not a member\n", err.toString(UTF_8));
      assertEquals("", out.toString(UTF_8).replaceFirst("^alice.*\n", ""));
    }
  }

  @Test
  void badUsageIsExitCode2() {
    assertEquals(2, esmp("send", "--to", "Bob", "hi"));
    assertEquals(2, esmp());
  }

  /** hello, then an error for the first frame. */
  private static void answerWithError(ServerSocket server) {
    ObjectMapper json = new ObjectMapper();
    try (Socket s = server.accept()) {
      s.getOutputStream().write(("{\"type\":\"hello\",\"protocol\":\"esmp/1\",\"domain\":\"example.com\","
          + "\"domains\":[\"example.com\"],\"challenge\":\"" + Base64.getEncoder().encodeToString(new byte[32])
          + "\",\"max_frame\":65536}\n").getBytes(UTF_8));
      java.io.BufferedReader in = new java.io.BufferedReader(
          new java.io.InputStreamReader(s.getInputStream(), UTF_8));
      ObjectNode frame = (ObjectNode) json.readTree(in.readLine());
      String id = Messages.id(Base64.getDecoder().decode(frame.path("sender_pubkey").asText()),
          Messages.signingBytes(frame));
      s.getOutputStream().write(("{\"type\":\"error\",\"re\":\"" + id
          + "\",\"code\":\"not_member\",\"message\":\"you are not a member\"}\n").getBytes(UTF_8));
      in.readLine(); // until the client closes
    } catch (IOException ignored) {
      // test over
    }
  }
}
