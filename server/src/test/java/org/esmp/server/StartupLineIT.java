package org.esmp.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.TestServers;
import org.esmp.server.tls.SelfSigned;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/** The one INFO line a started server logs: what it serves, and from which directory and file. */
class StartupLineIT {

  private static final Pattern LINE = Pattern.compile(
      "ESMP server listening on 127\\.0\\.0\\.1:(\\d+); data (.+); domains (.+); registration (open|closed); "
          + "(TLS .+); metrics (.+); config (.+); (\\d+) plugins: (.+)");

  @TempDir Path dir;
  private final Logger logger = (Logger) LoggerFactory.getLogger(EsmpServer.class);
  private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

  @BeforeEach
  void listen() {
    logged.start();
    logger.addAppender(logged);
  }

  @AfterEach
  void stopListening() {
    logger.detachAppender(logged);
  }

  @Test
  void namesTheDataDirectoryDomainsRegistrationConfigFileAndPlugins() throws Exception {
    Path file = Files.writeString(dir.resolve("esmp.yaml"),
        "bind: 127.0.0.1\nport: 0\ndomain: example.com\ndomains: [example.org]\nregistration: closed\n");
    ServerConfig config = Main.resolve(List.of("--config", file.toString(), "--data-dir", dir.resolve("data").toString(),
        "--plugins-dir", TestServers.pluginsDir().toString()));

    try (EsmpServer server = EsmpServer.start(config)) {
      Matcher line = startupLine();
      assertEquals(server.port(), Integer.parseInt(line.group(1)));
      assertEquals(dir.resolve("data").toAbsolutePath().toString(), line.group(2));
      assertEquals("example.com, example.org", line.group(3));
      assertEquals("closed", line.group(4));
      assertEquals("TLS off", line.group(5));
      assertEquals("off", line.group(6));
      assertEquals(file.toAbsolutePath().toString(), line.group(7));
      List<String> plugins = List.of(line.group(9).split(", "));
      assertEquals(Integer.parseInt(line.group(8)), plugins.size(), line.group());
      for (String bundled : List.of("direct-delivery", "group-threads", "storage-mapdb", "system-events")) {
        assertTrue(plugins.stream().anyMatch(p -> p.matches(bundled + " \\d[^ ]*")),
            "no '" + bundled + " VERSION' in " + line.group());
      }
    }
  }

  @Test
  void saysSoWhenNoConfigFileWasRead() throws Exception {
    try (EsmpServer server = TestServers.start(dir.resolve("data"))) {
      Matcher line = startupLine();
      assertEquals("none (embedded defaults)", line.group(7));
      assertEquals("open", line.group(4));
      assertEquals("example.com", line.group(3));
    }
  }

  @Test
  void namesTlsWithItsCertificateAndTheMetricsPort() throws Exception {
    SelfSigned pair = SelfSigned.create("example.com", Duration.ofDays(30));
    pair.write(dir.resolve("cert.pem"), dir.resolve("key.pem"));
    ServerConfig config = TestServers.config(dir.resolve("data")).tls(dir.resolve("cert.pem"), dir.resolve("key.pem"))
        .metricsOnAnyPort().build();
    try (EsmpServer server = EsmpServer.start(config)) {
      Matcher line = startupLine();
      assertEquals("TLS required (CN=example.com until " + pair.certificate().getNotAfter().toInstant() + ")",
          line.group(5));
      assertEquals("127.0.0.1:" + server.metricsPort().orElseThrow(), line.group(6));
    }
  }

  /** The startup line, which must have been logged once, at INFO. */
  private Matcher startupLine() {
    List<ILoggingEvent> lines = logged.list.stream()
        .filter(e -> e.getFormattedMessage().startsWith("ESMP server listening on")).toList();
    assertEquals(1, lines.size(), "one startup line: " + lines);
    assertEquals("INFO", lines.get(0).getLevel().toString());
    Matcher matcher = LINE.matcher(lines.get(0).getFormattedMessage());
    assertTrue(matcher.matches(), lines.get(0).getFormattedMessage());
    return matcher;
  }
}
