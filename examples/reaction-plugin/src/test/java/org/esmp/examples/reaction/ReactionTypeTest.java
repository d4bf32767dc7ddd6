package org.esmp.examples.reaction;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.JsonCodec;
import org.esmp.api.RejectedException;
import org.esmp.api.Request;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.api.testkit.TestJsonCodec;
import org.esmp.api.testkit.TestRequest;
import org.junit.jupiter.api.Test;

/**
 * A content type is plain Java: its check is tested without a server. Bodies are written as a
 * client sends them and read with the testkit's JSON codec; the requests are the testkit's, as the
 * server would hand them over.
 */
class ReactionTypeTest {

  private static final String ID = "f3233f9a2cfa9902f132acb89d71fbf4a0fd280b178e57e655249ba005698952";
  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");

  private final ReactionType type = new ReactionType();
  private final JsonCodec json = new TestJsonCodec();

  /** A reaction from alice to bob, with {@code body} written as JSON text. */
  private Request reaction(String body) {
    JsonObject frame = json.parseObject(("{\"body\":" + body + "}").getBytes(UTF_8));
    return TestRequest.builder("reaction", ALICE).to(BOB).body(frame.get("body")).build();
  }

  private static JsonObject body(String emoji, String target) {
    return JsonObject.builder().put("emoji", emoji).put("target", target).build();
  }

  private void assertRefused(JsonValue body) {
    RejectedException e = assertThrows(RejectedException.class, () -> type.validate(body), body.toString());
    assertEquals(ErrorCode.BAD_FIELD, e.code());
  }

  private void assertRefused(String body) {
    assertRefused(reaction(body).message().body());
  }

  @Test
  void acceptsAnEmojiAndAMessageId() {
    assertEquals("reaction", type.type());
    assertDoesNotThrow(() -> type.validate(reaction("{\"emoji\":\"👍\",\"target\":\"" + ID + "\"}").message().body()));
    assertDoesNotThrow(() -> type.validate(body("👍🏽", ID)));
    assertDoesNotThrow(() -> type.validate(body("x".repeat(16), ID)));
  }

  @Test
  void refusesEveryOtherBody() {
    assertRefused("[]");
    assertRefused("{}");
    assertRefused("{\"emoji\":\"\",\"target\":\"" + ID + "\"}");
    assertRefused(body("x".repeat(17), ID));
    assertRefused(body("👍", ID.toUpperCase()));
    assertRefused(body("👍", ID.substring(1)));
    assertRefused("{\"emoji\":\"👍\",\"target\":\"" + ID + "\",\"note\":\"extra\"}");
    assertRefused("{\"emoji\":1,\"target\":\"" + ID + "\"}");
    assertRefused("{\"emoji\":\"👍\"}");
    assertRefused(JsonArray.of());
  }
}
