package org.esmp.server.plugin;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Supplier;
import org.esmp.api.ServerContext;
import org.esmp.api.Storage;
import org.esmp.server.config.ServerConfig;

/** The {@link ServerContext} handed to extensions. */
final class CoreContext implements ServerContext {

  private final ServerConfig config;
  private final Supplier<Optional<Storage>> storage;

  /** @param storage looked up on each call: extensions are created before the registry exists */
  CoreContext(ServerConfig config, Supplier<Optional<Storage>> storage) {
    this.config = config;
    this.storage = storage;
  }

  @Override
  public String domain() {
    return config.domain();
  }

  @Override
  public Set<String> domains() {
    return Set.copyOf(new LinkedHashSet<>(config.domains()));
  }

  @Override
  public Path dataDirectory() {
    return config.dataDir();
  }

  @Override
  public Optional<Storage> storage() {
    return storage.get();
  }
}
