package org.esmp.server;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.BindException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A port another process listens on stops the start at once, before the data directory or the store. */
class PortInUseIT {

  @TempDir Path data;

  @Test
  void aPortInUseFailsTheStartBeforeTheStoreIsOpened() throws Exception {
    try (ServerSocket taken = new ServerSocket(0, 50, InetAddress.getByName("127.0.0.1"))) {
      int port = taken.getLocalPort();
      ServerConfig config = TestServers.config(data.resolve("data")).port(port).build();

      BindException e = assertThrows(BindException.class, () -> EsmpServer.start(config));

      assertTrue(e.getMessage().startsWith("127.0.0.1:" + port + " is in use"), e.getMessage());
      assertFalse(Files.exists(data.resolve("data")), "neither the data directory nor the store was opened");
    }
  }
}
