package org.esmp.server.plugin;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.esmp.api.ContentType;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.Storage;

/**
 * The extensions of the plugins that are running, indexed for dispatch. Immutable: when the set of
 * plugins changes, a new registry replaces the old one as a whole.
 *
 * @param types every declared type, mapped to who handles it
 * @param direct the delivery for direct messages, if installed
 * @param group the delivery for group messages, if installed
 * @param listeners every message listener
 * @param storage the storage, if installed
 */
public record PluginRegistry(
    Map<String, Declared> types,
    Optional<Owned<Delivery>> direct,
    Optional<Owned<Delivery>> group,
    List<Owned<MessageListener>> listeners,
    Optional<Owned<Storage>> storage) {

  /** An empty registry: no plugins. */
  public static final PluginRegistry EMPTY =
      new PluginRegistry(Map.of(), Optional.empty(), Optional.empty(), List.of(), Optional.empty());

  public PluginRegistry {
    types = Map.copyOf(types);
    listeners = List.copyOf(listeners);
  }

  /** An extension with the id of the plugin that provides it, for logs. */
  public record Owned<T>(String pluginId, T extension) {}

  /** Who handles a declared type. */
  public sealed interface Declared {
    /** The id of the declaring plugin. */
    String pluginId();
  }

  /** A type handled by a {@link MessageHandler}. */
  public record Handled(String pluginId, MessageHandler handler) implements Declared {}

  /** A content type, delivered by a {@link Delivery}. */
  public record Content(String pluginId, ContentType contentType, boolean ephemeral) implements Declared {}
}
