package org.esmp.server.plugin;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;
import java.util.function.Supplier;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.ServerContext;
import org.esmp.api.Storage;
import org.esmp.server.config.ServerConfig;
import org.pf4j.ExtensionPoint;

/** The {@link ServerContext} handed to extensions. */
final class CoreContext implements ServerContext {

  private final ServerConfig config;
  private final Supplier<Optional<Storage>> storage;
  private final Mailboxes mailboxes;
  private final JsonCodec json;
  private final Function<Class<?>, List<?>> extensions;

  /**
   * @param storage looked up on each call: extensions are created before the registry exists
   * @param extensions the running plugins' extensions of a type
   */
  CoreContext(ServerConfig config, Supplier<Optional<Storage>> storage, Mailboxes mailboxes, JsonCodec json,
      Function<Class<?>, List<?>> extensions) {
    this.config = config;
    this.storage = storage;
    this.mailboxes = mailboxes;
    this.json = json;
    this.extensions = extensions;
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T extends ExtensionPoint> List<T> extensions(Class<T> type) {
    return (List<T>) extensions.apply(type);
  }

  @Override
  public Mailboxes mailboxes() {
    return mailboxes;
  }

  @Override
  public JsonCodec json() {
    return json;
  }

  @Override
  public int maxRecipients() {
    return config.maxRecipients();
  }

  @Override
  public int maxGroupMembers() {
    return config.maxGroupMembers();
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
