package org.esmp.server.plugin;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.esmp.api.ContentType;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.spi.Storage;

/**
 * The extensions of the plugins that are running, indexed for dispatch. Immutable: when the set of
 * plugins changes, a new registry replaces the old one as a whole, and a message is dispatched with
 * the registry it started with.
 *
 * @param types every declared type, mapped to who handles it
 * @param direct the delivery for direct messages, if installed
 * @param group the delivery for group messages, if installed
 * @param listeners every message listener
 * @param storage the storage, if installed
 * @param extensions every extension of every running plugin, for {@code ServerContext.extensions}
 */
public record PluginRegistry(
    Map<String, Declared> types,
    Optional<Owned<Delivery>> direct,
    Optional<Owned<Delivery>> group,
    List<Listening> listeners,
    Optional<Owned<Storage>> storage,
    List<Owned<Object>> extensions) {

  /** An empty registry: no plugins. */
  public static final PluginRegistry EMPTY =
      new PluginRegistry(Map.of(), Optional.empty(), Optional.empty(), List.of(), Optional.empty(), List.of());

  public PluginRegistry {
    types = Map.copyOf(types);
    listeners = List.copyOf(listeners);
    extensions = List.copyOf(extensions);
  }

  /**
   * Indexes the extensions of {@code running}, plugins that {@link Admission} let join one another:
   * every type they declare, every listener, and every extension, in load order. Should two offer
   * a delivery of one scope, or a storage, the first loaded is taken.
   *
   * @param running the running plugins, in load order
   */
  static PluginRegistry of(List<RunningPlugin> running) {
    Map<String, Declared> types = new LinkedHashMap<>();
    Optional<Owned<Delivery>> direct = Optional.empty();
    Optional<Owned<Delivery>> group = Optional.empty();
    List<Listening> listeners = new ArrayList<>();
    Optional<Owned<Storage>> storage = Optional.empty();
    List<Owned<Object>> extensions = new ArrayList<>();
    for (RunningPlugin r : running) {
      types.putAll(r.types());
      Delivery forDirect = r.deliveries().get(Delivery.Scope.DIRECT);
      if (forDirect != null && direct.isEmpty()) {
        direct = Optional.of(new Owned<>(r.id(), forDirect, r.calls()));
      }
      Delivery forGroup = r.deliveries().get(Delivery.Scope.GROUP);
      if (forGroup != null && group.isEmpty()) {
        group = Optional.of(new Owned<>(r.id(), forGroup, r.calls()));
      }
      listeners.addAll(r.listeners());
      if (r.storage().isPresent() && storage.isEmpty()) {
        storage = Optional.of(new Owned<>(r.id(), r.storage().get(), r.calls()));
      }
      for (Object extension : r.extensions()) {
        extensions.add(new Owned<>(r.id(), extension, r.calls()));
      }
    }
    return new PluginRegistry(types, direct, group, listeners, storage, extensions);
  }

  /**
   * The extensions that are instances of {@code type}, in plugin load order, for
   * {@code ServerContext.extensions}: never the storage, which is the server's alone.
   */
  public <T> List<T> extensionsOf(Class<T> type) {
    return extensions.stream().map(Owned::extension).filter(e -> !(e instanceof Storage))
        .filter(type::isInstance).map(type::cast).toList();
  }

  /**
   * The extensions that are instances of {@code type}, with the plugins providing them, in plugin
   * load order; never the storage. For the server's own calls into them, through their plugins'
   * {@link PluginCalls}.
   */
  @SuppressWarnings("unchecked")
  public <T> List<Owned<T>> owned(Class<T> type) {
    return extensions.stream().filter(e -> !(e.extension() instanceof Storage))
        .filter(e -> type.isInstance(e.extension())).map(e -> (Owned<T>) (Owned<?>) e).toList();
  }

  /** Whether {@code type} is declared by a running plugin as a session type. */
  public boolean isSessionType(String type) {
    return types.get(type) instanceof Handled handled && handled.session();
  }

  /**
   * An extension with the plugin that provides it.
   *
   * @param calls how the server calls into that plugin: on its threads, bounded in time
   */
  public record Owned<T>(String pluginId, T extension, PluginCalls calls) {}

  /** A message listener, with the queue of its calls. */
  public record Listening(String pluginId, MessageListener listener, SerialCalls calls) {}

  /** Who handles a declared type. */
  public sealed interface Declared {
    /** The id of the declaring plugin. */
    String pluginId();

    /** How the server calls into that plugin. */
    PluginCalls calls();
  }

  /**
   * A type handled by a {@link MessageHandler}.
   *
   * @param session whether the handler declares it a session type
   */
  public record Handled(String pluginId, MessageHandler handler, boolean session, PluginCalls calls)
      implements Declared {}

  /** A content type, delivered by a {@link Delivery}. */
  public record Content(String pluginId, ContentType contentType, boolean ephemeral, PluginCalls calls)
      implements Declared {}
}
