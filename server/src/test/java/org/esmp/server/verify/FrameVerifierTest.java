package org.esmp.server.verify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.Set;
import org.esmp.api.ErrorCode;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.json.FrameParser;
import org.esmp.server.testing.TestIdentity;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/** Every frame of vectors/esmp/messages.json gets its documented outcome; plus the field rules. */
class FrameVerifierTest {

  private static final ObjectMapper JSON = new ObjectMapper();

  private final FrameVerifier verifier = new FrameVerifier(new FrameParser(64), new Ed25519Verifier(1024),
      Set.of("auth", "sync", "lookup", "history", "group_info")::contains);

  private static JsonNode vectors() throws IOException {
    try (InputStream in = FrameVerifierTest.class.getResourceAsStream("/vectors/esmp/messages.json")) {
      return JSON.readTree(in);
    }
  }

  private Verdict check(String frame) {
    return verifier.check(frame.getBytes(StandardCharsets.UTF_8));
  }

  @TestFactory
  Stream<DynamicTest> verifiesEveryValidVectorWithItsId() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    int n = 0;
    for (JsonNode vector : vectors().path("valid")) {
      String name = "valid[" + n++ + "] " + vector.path("unsigned").path("type").asText();
      tests.add(DynamicTest.dynamicTest(name, () -> {
        Verdict verdict = check(vector.path("frame").asText());
        SignedMessage message = assertInstanceOf(Verdict.Verified.class, verdict, verdict.toString()).message();
        assertEquals(vector.path("id").asText(), message.id().hex());
        assertEquals(vector.path("sender_pubkey").asText(), message.senderKey().base64());
        assertEquals(vector.path("unsigned").path("type").asText(), message.type());
      }));
    }
    assertEquals(5, tests.size(), "the vector file holds five valid messages");
    return tests.stream();
  }

  @TestFactory
  Stream<DynamicTest> refusesEveryRejectVectorWithItsCode() throws IOException {
    List<DynamicTest> tests = new ArrayList<>();
    for (JsonNode vector : vectors().path("rejects")) {
      tests.add(DynamicTest.dynamicTest(vector.path("why").asText(), () -> {
        Verdict verdict = check(vector.path("frame").asText());
        Verdict.Refused refused = assertInstanceOf(Verdict.Refused.class, verdict, verdict.toString());
        assertEquals(vector.path("code").asText(), codeOf(refused));
      }));
    }
    assertEquals(9, tests.size(), "the vector file holds nine rejects");
    return tests.stream();
  }

  private static String codeOf(Verdict.Refused refused) {
    return refused.code().wire();
  }

  private final TestIdentity me = TestIdentity.random();

  private JsonObject.Builder message() {
    return JsonObject.builder().put("type", "text").put("to", JsonArray.ofStrings(List.of("bob#example.com")))
        .put("body", JsonObject.builder().put("text", "hi").build()).put("ts", System.currentTimeMillis());
  }

  private Verdict signed(JsonObject unsigned) {
    return check(me.frame(unsigned));
  }

  @Test
  void refusesMalformedOptionalFields() {
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("cc", "bob#example.com").build())));
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("group_id", "has space").build())));
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("group_id", "g".repeat(129)).build())));
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("ts", "123").build())));
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("type", "Text").build())));
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("type", "t".repeat(65)).build())));
    assertInstanceOf(Verdict.Verified.class, signed(message().put("group_id", "g".repeat(128)).build()));
    assertInstanceOf(Verdict.Verified.class, signed(message().put("type", "t".repeat(64)).build()));
  }

  @Test
  void refusesEachMissingRequiredField() {
    for (String field : List.of("type", "to", "body")) {
      Verdict verdict = signed(message().remove(field).build());
      assertEquals(ErrorCode.MISSING_FIELD, code(verdict), field);
    }
  }

  @Test
  void refusesEveryTypeButTheSessionTypesWithoutTs() {
    for (String type : List.of("text", "joined", "left", "removed", "group_created", "key_add", "key_revoke",
        "no.plugin-declares_this")) {
      Verdict verdict = signed(message().put("type", type).remove("ts").build());
      assertEquals(ErrorCode.MISSING_FIELD, code(verdict), type);
      assertEquals("missing field 'ts' (required on every type but the session types, such as auth, sync and lookup)",
          ((Verdict.Refused) verdict).reason(), type);
    }
  }

  @Test
  void acceptsTheSessionTypesWithoutTs() {
    for (String type : List.of("auth", "sync", "lookup", "history", "group_info")) {
      Verdict verdict = signed(message().put("type", type).remove("ts").build());
      assertInstanceOf(Verdict.Verified.class, verdict, type + ": " + verdict);
    }
  }

  @Test
  void aMalformedTypeIsBadFieldBeforeTsIsMissing() {
    assertEquals(ErrorCode.BAD_FIELD, code(signed(message().put("type", "Text").remove("ts").build())));
  }

  @Test
  void aMissingTsIsReportedBeforeTheFormsOfTheOtherFields() {
    assertEquals(ErrorCode.MISSING_FIELD, code(signed(message().put("cc", "bob#example.com").remove("ts").build())));
  }

  @Test
  void refusesSignatureWithoutPaddingOrWithNonZeroPadBits() {
    JsonObject full = me.sign(message().build());
    String signature = full.string("signature").orElseThrow();
    String unpadded = signature.substring(0, signature.length() - 2);
    String frame = new String(org.esmp.json.JsonWriter.write(
        full.toBuilder().put("signature", unpadded).build()), StandardCharsets.UTF_8);
    assertEquals(ErrorCode.BAD_FIELD, code(check(frame)));
    // 64 bytes end in 4 pad bits in base64: flipping the last character's low bits keeps the bytes.
    char last = signature.charAt(signature.length() - 3);
    String alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char sameBytes = alphabet.charAt(alphabet.indexOf(last) ^ 1);
    String noncanonical = signature.substring(0, signature.length() - 3) + sameBytes + "==";
    frame = new String(org.esmp.json.JsonWriter.write(
        full.toBuilder().put("signature", noncanonical).build()), StandardCharsets.UTF_8);
    Verdict verdict = check(frame);
    assertEquals(ErrorCode.BAD_FIELD, code(verdict), "non-zero pad bits make a second text form: refused");
  }

  @Test
  void badJsonHasNoId() {
    Verdict verdict = check("{\"type\":");
    assertEquals(ErrorCode.BAD_JSON, code(verdict));
    assertNull(verdict.re());
  }

  private static ErrorCode code(Verdict verdict) {
    return assertInstanceOf(Verdict.Refused.class, verdict, verdict.toString()).code();
  }
}
