package org.esmp.server.plugin;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.esmp.api.ContentType;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.ServerContext;
import org.esmp.api.Storage;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.verify.FrameVerifier;
import org.pf4j.DefaultPluginManager;
import org.pf4j.PluginWrapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads every plugin jar of the plugins directory with PF4J, starts them, creates each extension
 * once, and indexes them in a {@link PluginRegistry}. A plugin that fails to load, start or create
 * an extension is logged and skipped: one bad plugin never keeps the server from serving.
 */
public final class PluginHost implements AutoCloseable {

  private static final Logger log = LoggerFactory.getLogger(PluginHost.class);

  private final Set<String> coreTypes;
  private final Manager manager;
  private volatile PluginRegistry registry = PluginRegistry.EMPTY;

  /**
   * @param coreTypes types the server answers itself; a plugin cannot take them over
   * @param mailboxes the mailbox service offered to plugins
   * @param json the JSON codec offered to plugins
   */
  public PluginHost(ServerConfig config, Set<String> coreTypes, Mailboxes mailboxes, JsonCodec json) {
    this.coreTypes = Set.copyOf(coreTypes);
    ServerContext context = new CoreContext(
        config, () -> registry.storage().map(PluginRegistry.Owned::extension), mailboxes, json, this::extensions);
    this.manager = new Manager(config.pluginsDir(), context);
  }

  /** The extensions of {@code type} of every started plugin, created once each. */
  public <T> List<T> extensions(Class<T> type) {
    try {
      return manager.getExtensions(type);
    } catch (RuntimeException | LinkageError e) {
      log.error("Could not look up {} extensions", type.getName(), e);
      return List.of();
    }
  }

  /** The storage, for the server's own services. */
  public Storage storage() {
    return registry.storage().map(PluginRegistry.Owned::extension).orElseThrow(
        () -> new IllegalStateException("no storage plugin installed"));
  }

  /** Loads and starts the plugins, then builds the registry. */
  public void start() {
    Path root = manager.pluginsRoot();
    if (!Files.isDirectory(root)) {
      log.warn("Plugins directory {} does not exist: starting with no plugins", root.toAbsolutePath());
      return;
    }
    manager.loadPlugins();
    manager.startPlugins();
    registry = index();
  }

  /** The registry of the running plugins. */
  public PluginRegistry registry() {
    return registry;
  }

  /** Ids of the plugins that started. */
  public List<String> startedPlugins() {
    return manager.getStartedPlugins().stream().map(PluginWrapper::getPluginId).toList();
  }

  private PluginRegistry index() {
    Map<String, PluginRegistry.Declared> types = new HashMap<>();
    List<PluginRegistry.Owned<Delivery>> direct = new ArrayList<>();
    List<PluginRegistry.Owned<Delivery>> group = new ArrayList<>();
    List<PluginRegistry.Owned<MessageListener>> listeners = new ArrayList<>();
    List<PluginRegistry.Owned<Storage>> storages = new ArrayList<>();

    for (PluginWrapper plugin : manager.getStartedPlugins()) {
      String id = plugin.getPluginId();
      for (MessageHandler handler : extensions(MessageHandler.class, id)) {
        Set<String> declared;
        try {
          declared = Set.copyOf(handler.types());
        } catch (RuntimeException e) {
          log.error("Plugin {}: {} failed to declare its types; skipped", id, handler.getClass().getName(), e);
          continue;
        }
        for (String type : declared) {
          declare(types, type, new PluginRegistry.Handled(id, handler));
        }
      }
      for (ContentType contentType : extensions(ContentType.class, id)) {
        try {
          declare(types, contentType.type(), new PluginRegistry.Content(id, contentType, contentType.ephemeral()));
        } catch (RuntimeException e) {
          log.error("Plugin {}: {} failed to declare its type; skipped", id, contentType.getClass().getName(), e);
        }
      }
      for (Delivery delivery : extensions(Delivery.class, id)) {
        (delivery.scope() == Delivery.Scope.GROUP ? group : direct).add(new PluginRegistry.Owned<>(id, delivery));
      }
      for (MessageListener listener : extensions(MessageListener.class, id)) {
        listeners.add(new PluginRegistry.Owned<>(id, listener));
      }
      for (Storage storage : storages(id)) {
        storages.add(new PluginRegistry.Owned<>(id, storage));
      }
    }
    if (storages.size() > 1) {
      throw new IllegalStateException(
          "more than one storage plugin installed ("
              + String.join(", ", storages.stream().map(PluginRegistry.Owned::pluginId).toList())
              + "): remove all but one from the plugins directory");
    }
    if (storages.isEmpty()) {
      log.warn("No storage plugin installed: auth and every message from a registered sender are answered 'internal'");
    }
    return new PluginRegistry(
        types, first(direct, "direct delivery"), first(group, "group delivery"), listeners,
        storages.stream().findFirst());
  }

  private void declare(Map<String, PluginRegistry.Declared> types, String type, PluginRegistry.Declared by) {
    if (type == null || !FrameVerifier.isTypeName(type)) {
      log.error("Plugin {}: type '{}' is not 1-64 characters of [a-z0-9_.-]; refused", by.pluginId(), type);
    } else if (coreTypes.contains(type)) {
      log.error("Plugin {}: type '{}' is answered by the server itself; refused", by.pluginId(), type);
    } else if (types.containsKey(type)) {
      log.error(
          "Plugin {}: type '{}' is already declared by plugin {}; refused",
          by.pluginId(), type, types.get(type).pluginId());
    } else {
      types.put(type, by);
    }
  }

  private static Optional<PluginRegistry.Owned<Delivery>> first(
      List<PluginRegistry.Owned<Delivery>> deliveries, String what) {
    if (deliveries.size() > 1) {
      log.error(
          "Several plugins provide {}: using {}, ignoring {}",
          what, deliveries.get(0).pluginId(),
          deliveries.subList(1, deliveries.size()).stream().map(PluginRegistry.Owned::pluginId).toList());
    }
    return deliveries.stream().findFirst();
  }

  /**
   * The storages of a plugin. Unlike other extensions, a storage that fails to open stops the
   * start: serving without the store, or from a damaged one, would lose or corrupt data.
   */
  private List<Storage> storages(String pluginId) {
    List<Storage> storages;
    try {
      storages = manager.getExtensions(Storage.class, pluginId);
    } catch (RuntimeException | LinkageError e) {
      throw failedToOpen(pluginId, e.getCause() != null ? e.getCause() : e);
    }
    // PF4J logs an extension that failed in its constructor and leaves it out: look for that.
    Optional<Throwable> failure = manager.factory().failure(Storage.class);
    if (failure.isPresent()) {
      throw failedToOpen(pluginId, failure.get());
    }
    return storages;
  }

  private static IllegalStateException failedToOpen(String pluginId, Throwable cause) {
    return new IllegalStateException("storage plugin " + pluginId + " failed to open: " + cause.getMessage(), cause);
  }

  private <T> List<T> extensions(Class<T> type, String pluginId) {
    try {
      return manager.getExtensions(type, pluginId);
    } catch (RuntimeException | LinkageError e) {
      log.error("Plugin {}: could not create its {} extensions; skipped", pluginId, type.getSimpleName(), e);
      return List.of();
    }
  }

  /** Stops and unloads every plugin. */
  @Override
  public void close() {
    registry = PluginRegistry.EMPTY;
    try {
      manager.stopPlugins();
      manager.unloadPlugins();
      manager.factory().clear();
    } catch (RuntimeException e) {
      log.warn("Stopping plugins failed", e);
    }
  }

  /** PF4J's manager, with extensions created by {@link ContextExtensionFactory}. */
  private static final class Manager extends DefaultPluginManager {
    Manager(Path pluginsDir, ServerContext context) {
      super(pluginsDir);
      // initialize() ran in the super constructor before context was at hand: replace its factory.
      this.extensionFactory = new ContextExtensionFactory(context);
    }

    ContextExtensionFactory factory() {
      return (ContextExtensionFactory) extensionFactory;
    }

    Path pluginsRoot() {
      return pluginsRoots.get(0);
    }
  }
}
