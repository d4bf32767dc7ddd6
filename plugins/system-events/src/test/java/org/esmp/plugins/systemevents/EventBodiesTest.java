package org.esmp.plugins.systemevents;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.group.GroupState.Policy;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import org.junit.jupiter.api.Test;

class EventBodiesTest {

  private static final Address BOB = Address.parse("bob#example.com");

  private static JsonObject body(String name, JsonValue value) {
    return JsonObject.builder().put(name, value).build();
  }

  private static void badField(Runnable read) {
    assertEquals(ErrorCode.BAD_FIELD, assertThrows(RejectedException.class, read::run).code());
  }

  @Test
  void creationDefaults() {
    GroupRules.Creation creation = EventBodies.creation(JsonObject.empty());
    assertEquals(Optional.empty(), creation.name());
    assertEquals(List.of(), creation.members());
    assertEquals(Policy.INVITE, creation.policy());
    GroupRules.Creation nulls = EventBodies.creation(JsonObject.builder().put("name", JsonNull.INSTANCE)
        .put("members", JsonNull.INSTANCE).put("policy", JsonNull.INSTANCE).build());
    assertEquals(creation, nulls);
  }

  @Test
  void creationReadsEveryField() {
    GroupRules.Creation creation = EventBodies.creation(JsonObject.builder()
        .put("name", "Lunch")
        .put("members", JsonArray.ofStrings(List.of("bob#example.com", "zed#other.org")))
        .put("policy", "open")
        .put("colour", "ignored")
        .build());
    assertEquals(Optional.of("Lunch"), creation.name());
    assertEquals(List.of(BOB, Address.parse("zed#other.org")), creation.members());
    assertEquals(Policy.OPEN, creation.policy());
    assertEquals(Policy.INVITE, EventBodies.creation(body("policy", JsonString.of("invite"))).policy());
  }

  @Test
  void creationRefusesWrongForms() {
    badField(() -> EventBodies.creation(JsonString.of("x")));
    badField(() -> EventBodies.creation(JsonNull.INSTANCE));
    badField(() -> EventBodies.creation(body("name", JsonNumber.of(3))));
    badField(() -> EventBodies.creation(body("members", JsonString.of("bob#example.com"))));
    badField(() -> EventBodies.creation(body("members", JsonArray.of(JsonNumber.of(1)))));
    badField(() -> EventBodies.creation(body("members", JsonArray.ofStrings(List.of("Bob#example.com")))));
    badField(() -> EventBodies.creation(body("members", JsonArray.ofStrings(List.of("bob")))));
    badField(() -> EventBodies.creation(body("policy", JsonString.of("closed"))));
    badField(() -> EventBodies.creation(body("policy", JsonString.of("OPEN"))));
    badField(() -> EventBodies.creation(body("policy", JsonNumber.of(1))));
  }

  @Test
  void joinedMemberIsOptional() {
    assertEquals(Optional.empty(), EventBodies.optionalMember(JsonObject.empty()));
    assertEquals(Optional.empty(), EventBodies.optionalMember(body("member", JsonNull.INSTANCE)));
    assertEquals(Optional.of(BOB), EventBodies.optionalMember(body("member", JsonString.of("bob#example.com"))));
    badField(() -> EventBodies.optionalMember(body("member", JsonString.of("bob@example.com"))));
    badField(() -> EventBodies.optionalMember(body("member", JsonArray.of())));
    badField(() -> EventBodies.optionalMember(JsonArray.of()));
  }

  @Test
  void removedMemberIsRequired() {
    assertEquals(BOB, EventBodies.requiredMember(body("member", JsonString.of("bob#example.com"))));
    badField(() -> EventBodies.requiredMember(JsonObject.empty()));
    badField(() -> EventBodies.requiredMember(body("member", JsonNull.INSTANCE)));
    badField(() -> EventBodies.requiredMember(body("member", JsonString.of(""))));
    badField(() -> EventBodies.requiredMember(JsonString.of("bob#example.com")));
  }
}
