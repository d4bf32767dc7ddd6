package org.esmp.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ServerConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MainTest {

  @TempDir Path dir;

  @Test
  void flagsOverrideTheConfigFile() throws Exception {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, "port: 6000\ndomain: example.com\nregistration: closed\n");
    ServerConfig config = Main.resolve(List.of("--config", file.toString(), "--port", "7000",
        "--data-dir", "/tmp/d", "--plugins-dir", "/tmp/p"));
    assertEquals(7000, config.port());
    assertEquals("example.com", config.domain());
    assertEquals(ServerConfig.Registration.CLOSED, config.registration());
    assertEquals(Path.of("/tmp/d"), config.dataDir());
    assertEquals(Path.of("/tmp/p"), config.pluginsDir());
  }

  @Test
  void badFlagValueExitsWithCodeTwo() {
    assertEquals(2, Main.run(new String[] {"--port", "notanumber"}));
    assertEquals(2, Main.run(new String[] {"--domain", "Not A Domain"}));
    assertEquals(2, Main.run(new String[] {"--no-such-flag"}));
  }

  @Test
  void invalidDomainIsAConfigError() {
    assertThrows(ConfigException.class, () -> Main.resolve(List.of("--domain", "UPPER.example")));
  }

  @Test
  void aDataDirectoryItCannotUseExitsWithCodeTwo() throws Exception {
    Path file = Files.writeString(dir.resolve("data"), "a file, not a directory");
    assertEquals(2, Main.run(new String[] {"--port", "0", "--data-dir", file.toString(),
        "--plugins-dir", dir.resolve("plugins").toString()}));
    assertEquals(2, Main.run(new String[] {"--port", "0", "--data-dir", file.resolve("below").toString(),
        "--plugins-dir", dir.resolve("plugins").toString()}));
  }

  @Test
  void metricsPortFlagOverridesTheConfigFile() throws Exception {
    Path file = dir.resolve("esmp.yaml");
    Files.writeString(file, "metrics_port: 9100\nmetrics_bind: 10.0.0.5\n");
    ServerConfig config = Main.resolve(List.of("--config", file.toString(), "--metrics-port", "9200"));
    assertEquals(new ServerConfig.Metrics(true, 9200, "10.0.0.5"), config.metrics());
    assertEquals(false, Main.resolve(List.of("--config", file.toString(), "--metrics-port", "0")).metrics().enabled(),
        "--metrics-port 0 turns it off");
    assertEquals(false, Main.resolve(List.of()).metrics().enabled(), "off by default");
    assertEquals(2, Main.run(new String[] {"--metrics-port", "65536"}));
  }
}
