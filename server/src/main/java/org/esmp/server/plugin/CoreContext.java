package org.esmp.server.plugin;

import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.ServerContext;
import org.esmp.api.Store;
import org.esmp.api.federation.Federation;
import org.esmp.server.config.ServerConfig;
import org.pf4j.ExtensionPoint;

/** The {@link ServerContext} handed to the extensions of one plugin. */
final class CoreContext implements ServerContext {

  private final ServerConfig config;
  private final Store store;
  private final Predicate<Address> hasMailbox;
  private final Mailboxes mailboxes;
  private final JsonCodec json;
  private final Function<Class<?>, List<?>> extensions;
  private final Federation federation;
  private final String pluginId;
  private final BooleanSupplier relaying;

  /**
   * @param pluginId the plugin's id, whose settings it gets
   * @param store the plugin's own store
   * @param hasMailbox whether an address exists on this server, looked up on each call
   * @param extensions the running plugins' extensions of a type, the storage left out
   * @param federation the server's services for federation
   * @param relaying whether a relay (federation plugin) runs now
   */
  CoreContext(String pluginId, ServerConfig config, Store store, Predicate<Address> hasMailbox, Mailboxes mailboxes,
      JsonCodec json, Function<Class<?>, List<?>> extensions, Federation federation, BooleanSupplier relaying) {
    this.pluginId = pluginId;
    this.federation = federation;
    this.relaying = relaying;
    this.config = config;
    this.store = store;
    this.hasMailbox = hasMailbox;
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
  public Store store() {
    return store;
  }

  @Override
  public boolean hasMailbox(Address address) {
    return config.serves(address.domain()) && hasMailbox.test(address);
  }

  @Override
  public Map<String, String> settings() {
    return config.settingsOf(pluginId);
  }

  @Override
  public boolean relays(Address address) {
    return !config.serves(address.domain()) && relaying.getAsBoolean();
  }

  @Override
  public Federation federation() {
    if (federation == null) {
      throw new UnsupportedOperationException("this server runs without federation");
    }
    return federation;
  }
}
