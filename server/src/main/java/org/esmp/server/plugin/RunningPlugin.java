package org.esmp.server.plugin;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.esmp.api.ContentType;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.spi.Storage;

/**
 * A started plugin and its extensions, created once, with what they declare.
 *
 * @param copy the private copy of the jar it was loaded from
 * @param calls how the server calls into it
 * @param extensions every extension, in the order PF4J listed their classes
 * @param types the types it declares, checked against the other plugins ({@link Admission}) before
 *     it is indexed
 * @param refusals what is wrong with its declarations taken alone (a type declared twice, a session
 *     type not declared, several deliveries of a scope, several storages); empty when nothing is
 * @param deliveries its deliveries by scope, the first of each scope
 * @param listeners its message listeners, each with its own queue of calls
 * @param storage its storage, the last when it has several
 */
record RunningPlugin(
    String id,
    String version,
    Path copy,
    PluginCalls calls,
    List<Object> extensions,
    Map<String, PluginRegistry.Declared> types,
    List<String> refusals,
    Map<Delivery.Scope, Delivery> deliveries,
    List<PluginRegistry.Listening> listeners,
    Optional<Storage> storage) {

  /** Calls waiting for one message listener, at most; older ones are dropped. */
  private static final int LISTENER_QUEUE = 10_000;

  /**
   * Reads what the extensions of a started plugin declare. Calls into the plugin ({@code types()},
   * {@code scope()}...), so it runs on the plugin's thread, as the extensions' creation does.
   *
   * @throws NullPointerException when a handler's {@code types()} or {@code sessionTypes()} is or
   *     holds {@code null}
   */
  static RunningPlugin of(String id, String version, Path copy, PluginCalls calls, List<Object> extensions) {
    Map<String, PluginRegistry.Declared> types = new LinkedHashMap<>();
    List<String> refusals = new ArrayList<>();
    Map<Delivery.Scope, Delivery> deliveries = new LinkedHashMap<>();
    List<PluginRegistry.Listening> listeners = new ArrayList<>();
    Optional<Storage> storage = Optional.empty();
    for (Object extension : extensions) {
      if (extension instanceof MessageHandler handler) {
        Set<String> declared = Set.copyOf(handler.types());
        Set<String> session = Set.copyOf(handler.sessionTypes());
        for (String type : declared) {
          declare(types, refusals, type, new PluginRegistry.Handled(id, handler, session.contains(type), calls));
        }
        for (String type : session) {
          if (!declared.contains(type)) {
            refusals.add("it names '" + type + "' a session type but does not declare it");
          }
        }
      }
      if (extension instanceof ContentType content) {
        declare(types, refusals, content.type(),
            new PluginRegistry.Content(id, content, content.ephemeral(), calls));
      }
      if (extension instanceof Delivery delivery) {
        Delivery.Scope scope = delivery.scope();
        if (scope == null || deliveries.putIfAbsent(scope, delivery) != null) {
          refusals.add("it has several deliveries of scope " + scope);
        }
      }
      if (extension instanceof MessageListener listener) {
        listeners.add(new PluginRegistry.Listening(id, listener, new SerialCalls(calls, "message listener", LISTENER_QUEUE)));
      }
      if (extension instanceof Storage found) {
        if (storage.isPresent()) {
          refusals.add("it has several storages");
        }
        storage = Optional.of(found);
      }
    }
    return new RunningPlugin(id, version, copy, calls, List.copyOf(extensions), types, refusals, deliveries, listeners,
        storage);
  }

  private static void declare(Map<String, PluginRegistry.Declared> types, List<String> refusals, String type,
      PluginRegistry.Declared by) {
    if (types.putIfAbsent(type, by) != null) {
      refusals.add("it declares type '" + type + "' twice");
    }
  }
}
