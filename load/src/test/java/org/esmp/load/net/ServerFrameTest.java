package org.esmp.load.net;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** Frames as the server writes them (copied from a run against bin/esmp-server). */
class ServerFrameTest {

  @Test
  void readsAnAck() {
    ServerFrame ack = scan("{\"type\":\"ack\",\"re\":\"c3287f8d\",\"duplicate\":false,\"seq\":2}");

    assertEquals("ack", ack.type());
    assertEquals("c3287f8d", ack.re());
    assertTrue(ack.answer());
    assertFalse(ack.isError());
  }

  @Test
  void readsAnErrorWithItsCodeAndText() {
    ServerFrame error = scan("{\"type\":\"error\",\"re\":\"ad0a39a7\",\"code\":\"unknown_recipient\","
        + "\"message\":\"no recipient exists\"}");

    assertTrue(error.isError());
    assertTrue(error.answer());
    assertEquals("unknown_recipient", error.code());
    assertEquals("no recipient exists", error.message());
  }

  @Test
  void anErrorAboutNoMessageStillAnswersOne() {
    ServerFrame error = scan("{\"type\":\"error\",\"re\":null,\"code\":\"bad_json\",\"message\":\"x\"}");

    assertTrue(error.answer());
    assertNull(error.re());
  }

  @Test
  void readsADeliveryWithoutItsMessage() {
    ServerFrame deliver = scan("{\"type\":\"deliver\",\"cursor\":3,\"id\":\"5b5dc6f4\",\"from\":\"x#example.com\","
        + "\"received_at\":1796056267976,\"group_id\":\"g\",\"seq\":2,\"message\":{\"type\":\"text\",\"to\":[],"
        + "\"group_id\":\"g\",\"body\":{\"text\":\"hello group\"},\"ts\":1796056267925,\"signature\":\"lWK+\","
        + "\"sender_pubkey\":\"g0mc\"}}");

    assertTrue(deliver.isDelivery());
    assertEquals("5b5dc6f4", deliver.id());
    assertFalse(deliver.answer());
  }

  @Test
  void takesTopLevelMembersInAnyOrderAndSkipsNestedOnes() {
    ServerFrame frame = scan(" { \"message\" : {\"id\":\"inner\",\"re\":\"inner\",\"s\":\"a \\\" } ] {\"} ,"
        + " \"id\" : \"outer\" , \"type\" : \"deliver\" } ");

    assertEquals("deliver", frame.type());
    assertEquals("outer", frame.id());
    assertFalse(frame.answer());
  }

  @Test
  void aPingIsNeitherAnswerNorDelivery() {
    ServerFrame ping = scan("{\"type\":\"ping\"}");

    assertEquals("ping", ping.type());
    assertFalse(ping.answer());
    assertFalse(ping.isDelivery());
  }

  @Test
  void aBrokenLineKeepsWhatWasRead() {
    ServerFrame broken = scan("{\"type\":\"ack\",\"re\":\"abc");

    assertEquals("ack", broken.type());
    assertFalse(broken.answer());
    assertNull(scan("not json").type());
  }

  private static ServerFrame scan(String line) {
    return ServerFrame.scan(line.getBytes(UTF_8));
  }
}
