package org.esmp.server.plugin;

import static org.esmp.server.plugin.FakePlugins.content;
import static org.esmp.server.plugin.FakePlugins.delivery;
import static org.esmp.server.plugin.FakePlugins.handler;
import static org.esmp.server.plugin.FakePlugins.listener;
import static org.esmp.server.plugin.FakePlugins.plugin;
import static org.esmp.server.plugin.FakePlugins.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.esmp.api.ContentType;
import org.esmp.api.Delivery;
import org.esmp.api.MessageHandler;
import org.esmp.api.MessageListener;
import org.esmp.api.spi.Storage;
import org.junit.jupiter.api.Test;

/** The registry built from running plugins, without PF4J. */
class PluginRegistryTest {

  @Test
  void noPluginsIsTheEmptyRegistry() {
    assertEquals(PluginRegistry.EMPTY, PluginRegistry.of(List.of()));
  }

  @Test
  void indexesEveryTypeListenerAndExtensionOfTheRunningPluginsInLoadOrder() {
    MessageHandler groups = handler(Set.of("group_create", "history"), Set.of("history"));
    ContentType text = content("text");
    MessageListener first = listener();
    MessageListener second = listener();
    Delivery direct = delivery(Delivery.Scope.DIRECT);
    RunningPlugin a = plugin("a", text, first, direct);
    RunningPlugin b = plugin("b", second, groups);

    PluginRegistry registry = PluginRegistry.of(List.of(a, b));

    assertEquals(Set.of("text", "group_create", "history"), registry.types().keySet());
    assertSame(a.types().get("text"), registry.types().get("text"));
    assertSame(b.types().get("history"), registry.types().get("history"));
    assertEquals(List.of(first, second), registry.listeners().stream().map(PluginRegistry.Listening::listener).toList());
    assertEquals(List.of("a", "a", "a", "b", "b"),
        registry.extensions().stream().map(PluginRegistry.Owned::pluginId).toList());
    assertEquals(List.of(text, first, direct, second, groups),
        registry.extensions().stream().map(PluginRegistry.Owned::extension).toList());
    assertSame(b.calls(), registry.extensions().get(4).calls());
    assertSame(direct, registry.direct().orElseThrow().extension());
    assertSame(a.calls(), registry.direct().orElseThrow().calls());
    assertTrue(registry.group().isEmpty());
    assertTrue(registry.storage().isEmpty());
  }

  @Test
  void takesTheFirstLoadedDeliveryOfEachScopeAndTheFirstStorage() {
    Delivery firstGroup = delivery(Delivery.Scope.GROUP);
    Storage firstStorage = storage();
    PluginRegistry registry = PluginRegistry.of(List.of(
        plugin("a", firstGroup),
        plugin("b", delivery(Delivery.Scope.GROUP), delivery(Delivery.Scope.DIRECT), firstStorage),
        plugin("c", delivery(Delivery.Scope.DIRECT), storage())));

    assertSame(firstGroup, registry.group().orElseThrow().extension());
    assertEquals("b", registry.direct().orElseThrow().pluginId());
    assertSame(firstStorage, registry.storage().orElseThrow().extension());
    assertEquals("b", registry.storage().orElseThrow().pluginId());
  }

  @Test
  void extensionsOfGivesEveryExtensionOfATypeButTheStorage() {
    Delivery direct = delivery(Delivery.Scope.DIRECT);
    Delivery group = delivery(Delivery.Scope.GROUP);
    Storage storage = storage();
    ContentType text = content("text");
    PluginRegistry registry = PluginRegistry.of(List.of(plugin("a", direct, storage), plugin("b", text, group)));

    assertEquals(List.of(direct, group), registry.extensionsOf(Delivery.class));
    assertEquals(List.of(), registry.extensionsOf(Storage.class));
    assertEquals(List.of(direct, text, group), registry.extensionsOf(Object.class));
  }

  @Test
  void aSessionTypeIsOneAHandlerDeclaresSo() {
    PluginRegistry registry = PluginRegistry.of(List.of(
        plugin("a", handler(Set.of("history", "group_create"), Set.of("history")), content("text"))));

    assertTrue(registry.isSessionType("history"));
    assertFalse(registry.isSessionType("group_create"));
    assertFalse(registry.isSessionType("text"));
    assertFalse(registry.isSessionType("unknown"));
  }

  @Test
  void isImmutable() {
    PluginRegistry registry = PluginRegistry.of(List.of(plugin("a", content("text"), listener())));
    assertThrows(UnsupportedOperationException.class, () -> registry.types().clear());
    assertThrows(UnsupportedOperationException.class, () -> registry.listeners().clear());
    assertThrows(UnsupportedOperationException.class, () -> registry.extensions().clear());
  }
}
