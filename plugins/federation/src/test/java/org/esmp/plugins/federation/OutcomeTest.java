package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.json.JsonObject;
import org.junit.jupiter.api.Test;

class OutcomeTest {

  private static final Address BOB = Address.parse("bob#b.example");

  private static JsonObject error(ErrorCode code) {
    return JsonObject.builder().put("type", "error").put("re", "x").put("code", code.wire()).put("message", "m").build();
  }

  @Test
  void anAckDeliversUnlessItRejectsTheRecipient() {
    assertEquals(new Outcome.Delivered(), Outcome.of(JsonObject.builder().put("type", "ack").build(), BOB));
    assertEquals(new Outcome.Delivered(),
        Outcome.of(JsonObject.builder().put("type", "ack").put("duplicate", true).build(), BOB));
    assertEquals(new Outcome.Refused("unknown_recipient"), Outcome.of(JsonObject.builder().put("type", "ack")
        .put("rejected", JsonObject.builder().put(BOB.toString(), "unknown_recipient").build()).build(), BOB));
  }

  @Test
  void errorsAboutTheMessageAreForGood() {
    for (ErrorCode code : new ErrorCode[] {ErrorCode.UNKNOWN_RECIPIENT, ErrorCode.BAD_SIGNATURE, ErrorCode.FORBIDDEN,
        ErrorCode.BAD_FIELD, ErrorCode.FRAME_TOO_LARGE, ErrorCode.NOT_MEMBER}) {
      assertEquals(new Outcome.Refused(code.wire()), Outcome.of(error(code), BOB), code.wire());
    }
  }

  @Test
  void errorsOfThePeerOrTheConnectionAreTriedAgain() {
    for (ErrorCode code : new ErrorCode[] {ErrorCode.INTERNAL, ErrorCode.PEER_UNAVAILABLE, ErrorCode.AUTH_REQUIRED,
        ErrorCode.UNSUPPORTED_TYPE, ErrorCode.STALE, ErrorCode.UNKNOWN_SENDER}) {
      Outcome outcome = Outcome.of(error(code), BOB);
      assertEquals(Outcome.Retry.class, outcome.getClass(), code.wire());
      assertEquals(0, ((Outcome.Retry) outcome).retryAfterMillis());
    }
  }

  @Test
  void rateLimitedCarriesItsWait() {
    JsonObject limited = error(ErrorCode.RATE_LIMITED).toBuilder().put("retry_after_ms", 1500).build();
    assertEquals(1500, ((Outcome.Retry) Outcome.of(limited, BOB)).retryAfterMillis());
  }

  @Test
  void anAnswerOfAnotherTypeIsTriedAgain() {
    assertEquals(Outcome.Retry.class, Outcome.of(JsonObject.builder().put("type", "keys").build(), BOB).getClass());
  }
}
