package org.esmp.server.plugin;

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
   * The extensions that are instances of {@code type}, in plugin load order, for
   * {@code ServerContext.extensions}: never the storage, which is the server's alone.
   */
  public <T> List<T> extensionsOf(Class<T> type) {
    return extensions.stream().map(Owned::extension).filter(e -> !(e instanceof Storage))
        .filter(type::isInstance).map(type::cast).toList();
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
