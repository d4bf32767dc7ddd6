package org.esmp.server.testing;

import java.nio.file.Path;
import org.esmp.server.EsmpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;

/** One real server for all tests of a class, on a fresh data directory, with the test plugin jars. */
public abstract class SharedServerTest {

  @TempDir protected static Path data;
  protected static EsmpServer server;

  @BeforeAll
  static void startServer() throws Exception {
    server = TestServers.start(data);
  }

  @AfterAll
  static void stopServer() {
    server.close();
  }
}
