package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import org.esmp.server.EsmpServer;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.store.Commits;

/** Starts the real server in this JVM, with the plugin jars the build copied for the tests. */
public final class TestServers {

  private TestServers() {}

  /**
   * A commit path for a plugin host that serves no messages (host tests): any commit through it
   * fails.
   */
  public static Commits noCommits() {
    return new Commits(() -> {
      throw new IllegalStateException("this test serves no messages");
    }, (address, cursor, entry) -> {}, Clock.systemUTC(), Runnable::run, ServerMetrics.off());
  }

  /** The directory holding the plugin jars (bundled plugins and test plugins), loaded by PF4J. */
  public static Path pluginsDir() {
    String plugins = System.getProperty("esmp.it.plugins");
    assertTrue(plugins != null && Files.isDirectory(Path.of(plugins)),
        "the build copies the plugins to the directory named by esmp.it.plugins");
    return Path.of(plugins);
  }

  /**
   * Rate limits high enough never to throttle the tests, which pipeline thousands of frames and
   * register hundreds of addresses from one loopback IP; the same values as {@link #UNTHROTTLED_YAML}.
   */
  public static ServerConfig.Builder unthrottled(ServerConfig.Builder builder) {
    return builder.ipFramesPerSecond(UNLIMITED).ipFramesBurst(UNLIMITED)
        .ipBytesPerSecond(UNLIMITED).ipBytesBurst(UNLIMITED)
        .addressMessagesPerSecond(UNLIMITED).addressMessagesBurst(UNLIMITED)
        .registrationsPerIpPerHour(UNLIMITED).keyChangesPerAddressPerHour(UNLIMITED);
  }

  private static final int UNLIMITED = 1_000_000_000;

  /** {@link #unthrottled} as an {@code esmp.yaml}, for servers in a child JVM. */
  public static final String UNTHROTTLED_YAML = String.join("\n",
      "ip_frames_per_second: " + UNLIMITED, "ip_frames_burst: " + UNLIMITED,
      "ip_bytes_per_second: " + UNLIMITED, "ip_bytes_burst: " + UNLIMITED,
      "address_messages_per_second: " + UNLIMITED, "address_messages_burst: " + UNLIMITED,
      "registrations_per_ip_per_hour: " + UNLIMITED, "key_changes_per_address_per_hour: " + UNLIMITED, "");

  /**
   * A configuration for domain example.com on a free loopback port, with {@link #unthrottled} rate
   * limits. Every test connects from 127.0.0.1, so the per-IP connection limit is the total one
   * here; the deadlines keep their defaults (tests that check them lower them). On the tests' storage
   * ({@link ClusterDatabase}).
   */
  public static ServerConfig.Builder config(Path data) {
    return ClusterDatabase.on(storageUnchosen(data), data);
  }

  /**
   * {@link #config} without the tests' storage: no {@code storage} chosen, so storage-mapdb runs
   * when its jar is in the plugins directory. For the tests of the choice of storage itself, and of
   * a plugin host on a plugins directory holding no storage.
   */
  public static ServerConfig.Builder storageUnchosen(Path data) {
    return unthrottled(ServerConfig.builder().bind("127.0.0.1").port(0).domain("example.com")
        .dataDir(data).pluginsDir(pluginsDir()).maxConnectionsPerIp(10_000));
  }

  /** Starts a server for example.com on a free port with its data in {@code data}. */
  public static EsmpServer start(Path data) throws Exception {
    return EsmpServer.start(config(data).build());
  }
}
