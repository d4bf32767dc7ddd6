package org.esmp.server.plugin;

import static org.esmp.server.plugin.FakePlugins.content;
import static org.esmp.server.plugin.FakePlugins.delivery;
import static org.esmp.server.plugin.FakePlugins.handler;
import static org.esmp.server.plugin.FakePlugins.listener;
import static org.esmp.server.plugin.FakePlugins.plugin;
import static org.esmp.server.plugin.FakePlugins.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.esmp.api.ContentType;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.spi.Storage;
import org.junit.jupiter.api.Test;

/** What a started plugin's extensions declare, read without PF4J. */
class RunningPluginTest {

  @Test
  void mapsEachDeclaredTypeToItsHandlerOrContentTypeWithTheSessionAndEphemeralFlags() {
    MessageHandler handler = handler(Set.of("lookup", "history"), Set.of("history"));
    ContentType typing = content("typing", true);
    RunningPlugin plugin = plugin("chat", handler, typing);

    assertEquals(Set.of("lookup", "history", "typing"), plugin.types().keySet());
    PluginRegistry.Handled lookup = assertInstanceOf(PluginRegistry.Handled.class, plugin.types().get("lookup"));
    assertSame(handler, lookup.handler());
    assertFalse(lookup.session());
    assertTrue(((PluginRegistry.Handled) plugin.types().get("history")).session());
    PluginRegistry.Content content = assertInstanceOf(PluginRegistry.Content.class, plugin.types().get("typing"));
    assertSame(typing, content.contentType());
    assertTrue(content.ephemeral());
    plugin.types().values().forEach(declared -> {
      assertEquals("chat", declared.pluginId());
      assertSame(plugin.calls(), declared.calls());
    });
    assertEquals(List.of(), plugin.refusals());
  }

  @Test
  void keepsEveryExtensionInOrderWithItsDeliveriesListenersAndStorage() {
    Delivery direct = delivery(Delivery.Scope.DIRECT);
    Delivery group = delivery(Delivery.Scope.GROUP);
    MessageListener first = listener();
    MessageListener second = listener();
    Storage storage = storage();
    RunningPlugin plugin = plugin("all", first, direct, storage, group, second);

    assertEquals(List.of(first, direct, storage, group, second), plugin.extensions());
    assertEquals(Map.of(Delivery.Scope.DIRECT, direct, Delivery.Scope.GROUP, group), plugin.deliveries());
    assertEquals(List.of(first, second), plugin.listeners().stream().map(PluginRegistry.Listening::listener).toList());
    assertNotSame(plugin.listeners().get(0).calls(), plugin.listeners().get(1).calls(), "a queue per listener");
    assertEquals(Optional.of(storage), plugin.storage());
    assertEquals(List.of(), plugin.refusals());
  }

  @Test
  void aTypeDeclaredTwiceByItsOwnExtensionsIsARefusal() {
    assertEquals(List.of("it declares type 'text' twice"),
        plugin("twice", content("text"), content("text")).refusals());
    assertEquals(List.of("it declares type 'text' twice"),
        plugin("twice", handler("text"), content("text")).refusals());
  }

  @Test
  void aSessionTypeThatIsNotDeclaredIsARefusal() {
    assertEquals(List.of("it names 'history' a session type but does not declare it"),
        plugin("session", handler(Set.of("lookup"), Set.of("history"))).refusals());
  }

  @Test
  void severalDeliveriesOfAScopeOrOneWithoutAScopeIsARefusal() {
    assertEquals(List.of("it has several deliveries of scope DIRECT"),
        plugin("two", delivery(Delivery.Scope.DIRECT), delivery(Delivery.Scope.DIRECT)).refusals());
    assertEquals(List.of("it has several deliveries of scope null"), plugin("none", delivery(null)).refusals());
  }

  @Test
  void severalStoragesIsARefusal() {
    assertEquals(List.of("it has several storages"), plugin("two", storage(), storage()).refusals());
  }

  @Test
  void aPluginWithNoExtensionDeclaresNothing() {
    RunningPlugin plugin = plugin("empty");
    assertEquals("empty", plugin.id());
    assertEquals("1.0.0", plugin.version());
    assertTrue(plugin.types().isEmpty());
    assertTrue(plugin.deliveries().isEmpty());
    assertTrue(plugin.listeners().isEmpty());
    assertEquals(Optional.empty(), plugin.storage());
    assertEquals(List.of(), plugin.refusals());
  }
}
