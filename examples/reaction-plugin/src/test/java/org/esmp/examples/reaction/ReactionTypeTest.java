package org.esmp.examples.reaction;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.esmp.api.ErrorCode;
import org.esmp.api.RejectedException;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.junit.jupiter.api.Test;

/** A content type is plain Java: its check is tested without a server. */
class ReactionTypeTest {

  private static final String ID = "f3233f9a2cfa9902f132acb89d71fbf4a0fd280b178e57e655249ba005698952";

  private final ReactionType type = new ReactionType();

  private static JsonObject body(String emoji, String target) {
    return JsonObject.builder().put("emoji", emoji).put("target", target).build();
  }

  private void assertRefused(JsonValue body) {
    RejectedException e = assertThrows(RejectedException.class, () -> type.validate(body), body.toString());
    assertEquals(ErrorCode.BAD_FIELD, e.code());
  }

  @Test
  void acceptsAnEmojiAndAMessageId() {
    assertEquals("reaction", type.type());
    assertDoesNotThrow(() -> type.validate(body("👍", ID)));
    assertDoesNotThrow(() -> type.validate(body("👍🏽", ID)));
    assertDoesNotThrow(() -> type.validate(body("x".repeat(16), ID)));
  }

  @Test
  void refusesEveryOtherBody() {
    assertRefused(JsonArray.of());
    assertRefused(JsonObject.empty());
    assertRefused(body("", ID));
    assertRefused(body("x".repeat(17), ID));
    assertRefused(body("👍", ID.toUpperCase()));
    assertRefused(body("👍", ID.substring(1)));
    assertRefused(body("👍", ID).toBuilder().put("note", "extra").build());
    assertRefused(JsonObject.builder().put("emoji", 1).put("target", ID).build());
    assertRefused(JsonObject.builder().put("emoji", "👍").build());
  }
}
