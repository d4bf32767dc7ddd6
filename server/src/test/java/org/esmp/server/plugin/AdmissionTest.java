package org.esmp.server.plugin;

import static org.esmp.server.plugin.FakePlugins.content;
import static org.esmp.server.plugin.FakePlugins.delivery;
import static org.esmp.server.plugin.FakePlugins.handler;
import static org.esmp.server.plugin.FakePlugins.plugin;
import static org.esmp.server.plugin.FakePlugins.storage;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Set;
import org.esmp.api.Delivery;
import org.junit.jupiter.api.Test;

/** Whether a started plugin may join the running ones, decided without PF4J. */
class AdmissionTest {

  private final Admission admission = new Admission(Set.of("auth"));

  @Test
  void admitsAPluginWhoseTypesAndScopesAreFree() {
    List<RunningPlugin> running = List.of(plugin("text", content("text"), delivery(Delivery.Scope.DIRECT)));
    assertNull(admission.refusal(plugin("groups", handler("group_create"), delivery(Delivery.Scope.GROUP)),
        false, running));
    assertNull(admission.refusal(plugin("empty"), false, running));
  }

  @Test
  void refusesThePluginIdsWhoseSpacesAreTheServers() {
    assertEquals("plugin id 'esmp' is the server's own (its spaces are named esmp and esmp.*)",
        admission.refusal(plugin("esmp"), true, List.of()));
    assertEquals("plugin id 'esmp.addresses' is the server's own (its spaces are named esmp and esmp.*)",
        admission.refusal(plugin("esmp.addresses"), false, List.of()));
    assertNull(admission.refusal(plugin("esmp-extras"), false, List.of()));
  }

  @Test
  void givesWhatIsWrongWithItsOwnDeclarationsFirst() {
    RunningPlugin twice = plugin("twice", content("auth"), content("auth"));
    assertEquals("it declares type 'auth' twice", admission.refusal(twice, true, List.of()));
  }

  @Test
  void refusesMalformedTypeNames() {
    for (String type : new String[] {null, "", "Text", "a b", "x".repeat(65)}) {
      assertEquals("type '" + type + "' is not 1-64 characters of [a-z0-9_.-]",
          admission.refusal(plugin("bad", content(type)), false, List.of()));
    }
    assertNull(admission.refusal(plugin("good", content("x".repeat(64)), content("a0_.-")), false, List.of()));
  }

  @Test
  void refusesATypeTheServerAnswersItself() {
    assertEquals("type 'auth' is answered by the server itself",
        admission.refusal(plugin("auth", handler("auth")), true, List.of()));
  }

  @Test
  void refusesATypeAnotherRunningPluginDeclares() {
    List<RunningPlugin> running = List.of(plugin("first", handler("lookup")), plugin("reaction", content("reaction")));
    assertEquals("type 'reaction' is already declared by plugin reaction",
        admission.refusal(plugin("reaction-copy", content("reaction")), false, running));
    assertEquals("type 'lookup' is already declared by plugin first",
        admission.refusal(plugin("second", handler("lookup")), true, running));
  }

  @Test
  void refusesADeliveryOfAScopeAnotherRunningPluginDelivers() {
    List<RunningPlugin> running = List.of(plugin("direct-delivery", delivery(Delivery.Scope.DIRECT)));
    assertEquals("plugin direct-delivery already delivers direct messages",
        admission.refusal(plugin("other", delivery(Delivery.Scope.DIRECT)), false, running));
  }

  @Test
  void checksTypesBeforeDeliveries() {
    List<RunningPlugin> running = List.of(plugin("text", content("text"), delivery(Delivery.Scope.DIRECT)));
    assertEquals("type 'text' is already declared by plugin text",
        admission.refusal(plugin("other", delivery(Delivery.Scope.DIRECT), content("text")), false, running));
  }

  @Test
  void admitsAStorageOnlyWhenTheServerStarts() {
    List<RunningPlugin> running = List.of(plugin("text", content("text")));
    assertNull(admission.refusal(plugin("storage-mapdb", storage()), true, running));
    assertEquals("it provides a storage, and the storage is chosen when the server starts (restart the server to use it)",
        admission.refusal(plugin("storage-mapdb", storage()), false, running));
  }

  @Test
  void aSecondStorageAtStartStopsTheStart() {
    List<RunningPlugin> running = List.of(plugin("text", content("text")), plugin("storage-mapdb", storage()));
    IllegalStateException e = assertThrows(IllegalStateException.class,
        () -> admission.refusal(plugin("storage-other", storage()), true, running));
    assertEquals("more than one storage plugin installed (storage-mapdb, storage-other): "
        + "remove all but one from the plugins directory", e.getMessage());
  }

  @Test
  void listsThePluginsThatProvideAStorage() {
    assertEquals(List.of("b", "d"), Admission.storages(
        List.of(plugin("a"), plugin("b", storage()), plugin("c", content("c")), plugin("d", storage()))));
  }
}
