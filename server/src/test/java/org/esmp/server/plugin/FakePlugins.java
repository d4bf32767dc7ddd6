package org.esmp.server.plugin;

import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import io.netty.util.Timer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.esmp.api.ContentType;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.spi.Storage;
import org.esmp.server.metrics.ServerMetrics;

/**
 * Started plugins without PF4J: extensions that declare what a test gives them, read by
 * {@link RunningPlugin#of} as the loader reads a real plugin's. Their {@link PluginCalls} start no
 * thread unless called.
 */
final class FakePlugins {

  private FakePlugins() {}

  /** A started plugin, version 1.0.0, with these extensions in this order. */
  static RunningPlugin plugin(String id, Object... extensions) {
    return RunningPlugin.of(id, "1.0.0", Path.of(id + ".jar"), calls(id), List.of(extensions));
  }

  static PluginCalls calls(String id) {
    return new PluginCalls(id, 1, Duration.ofSeconds(1), Duration.ofSeconds(1), mock(Timer.class),
        FakePlugins.class.getClassLoader(), ServerMetrics.off().plugin(id));
  }

  static MessageHandler handler(Set<String> types, Set<String> sessionTypes) {
    MessageHandler handler = mock(MessageHandler.class);
    when(handler.types()).thenReturn(types);
    when(handler.sessionTypes()).thenReturn(sessionTypes);
    return handler;
  }

  static MessageHandler handler(String... types) {
    return handler(Set.of(types), Set.of());
  }

  static ContentType content(String type, boolean ephemeral) {
    ContentType content = mock(ContentType.class);
    when(content.type()).thenReturn(type);
    when(content.ephemeral()).thenReturn(ephemeral);
    return content;
  }

  static ContentType content(String type) {
    return content(type, false);
  }

  static Delivery delivery(Delivery.Scope scope) {
    Delivery delivery = mock(Delivery.class);
    when(delivery.scope()).thenReturn(scope);
    return delivery;
  }

  static MessageListener listener() {
    return mock(MessageListener.class);
  }

  static Storage storage() {
    return mock(Storage.class);
  }
}
