package org.esmp.plugin.storage.mapdb;

import java.nio.file.Path;
import org.esmp.api.ServerContext;
import org.esmp.api.testkit.TestContext;

/** The testkit's context with a data directory and this module's JSON codec: all a storage needs. */
final class StorageContexts {

  private StorageContexts() {}

  static ServerContext of(Path dataDirectory) {
    return TestContext.builder(MapDbStorage.DIRECTORY).dataDirectory(dataDirectory).json(new JacksonJsonCodec()).build();
  }
}
