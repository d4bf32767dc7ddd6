package org.esmp.client;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/** Reading and checking a delivery, and what it gives as JSON text. */
class DeliveryTest {

  private static final SigningKey BOB = SigningKey.generate();

  @Test
  void givesTheFieldsAndTheJsonAsReceived() throws Exception {
    ObjectNode message = FakeServer.text(BOB, "alice#example.com", "hi \"you\" ☕", 1);
    ObjectNode frame = FakeServer.deliver(7, "bob#example.com", message);
    Delivery d = Delivery.verified(frame.toString());
    assertEquals(7L, d.cursor());
    assertEquals(FakeServer.idOf(message), d.id());
    assertEquals("bob#example.com", d.from());
    assertEquals(1764000000007L, d.receivedAt());
    assertNull(d.groupId());
    assertNull(d.seq());
    assertEquals("text", d.type());
    assertEquals("hi \"you\" ☕", d.text());
    assertEquals(new String(Jcs.compact(message), UTF_8), d.message());
    assertEquals(new String(Jcs.compact(frame), UTF_8), d.frame());
    assertEquals("{\"text\":\"hi \\\"you\\\" ☕\"}", d.body());
    assertEquals(d, Delivery.verified(frame));
  }

  @Test
  void aBodyWithoutTextHasNoText() throws Exception {
    ObjectNode m = Frames.newGroupMessage("left", "g1");
    m.putObject("body");
    m.put("ts", 1);
    ObjectNode message = Messages.sign(m, BOB).frame();
    ObjectNode frame = FakeServer.deliver(1, "bob#example.com", message);
    frame.put("group_id", "g1").put("seq", 3);
    Delivery d = Delivery.verified(frame);
    assertEquals("left", d.type());
    assertNull(d.text());
    assertEquals("{}", d.body());
    assertEquals("g1", d.groupId());
    assertEquals(3L, d.seq());
  }

  @Test
  void refusesADeliveryUnderAnotherId() {
    ObjectNode message = FakeServer.text(BOB, "alice#example.com", "hi", 1);
    ObjectNode frame = FakeServer.deliver(1, "bob#example.com", message);
    frame.put("id", "00".repeat(32));
    InvalidMessageException e = assertThrows(InvalidMessageException.class, () -> Delivery.verified(frame));
    assertTrue(e.getMessage().startsWith("refused delivery 1 from bob#example.com (id 0000"), e.getMessage());
    assertEquals("hi", e.delivery().text(), "what was received comes with the refusal");
  }

  @Test
  void refusesASignedFromThatIsNotTheSenderAndAMessageOfAnotherGroup() {
    ObjectNode m = Frames.newGroupMessage("text", "g1");
    m.put("from", "mallory#example.com");
    m.putObject("body").put("text", "hi");
    m.put("ts", 1);
    ObjectNode frame = FakeServer.deliver(1, "bob#example.com", Messages.sign(m, BOB).frame());
    frame.put("group_id", "g1");
    assertTrue(assertThrows(InvalidMessageException.class, () -> Delivery.verified(frame))
        .getMessage().endsWith("signed from \"mallory#example.com\" is not bob#example.com"));
    m.remove("from");
    ObjectNode other = FakeServer.deliver(1, "bob#example.com", Messages.sign(m, BOB).frame());
    other.put("group_id", "g2");
    assertTrue(assertThrows(InvalidMessageException.class, () -> Delivery.verified(other))
        .getMessage().endsWith("message is not of group g2"));
  }

  @Test
  void refusesWhatIsNotADelivery() {
    assertThrows(InvalidMessageException.class, () -> Delivery.verified("not json"));
    assertThrows(InvalidMessageException.class, () -> Delivery.verified("[1]"));
    InvalidMessageException none = assertThrows(InvalidMessageException.class,
        () -> Delivery.verified("{\"type\":\"deliver\",\"cursor\":1,\"id\":\"x\",\"from\":\"bob#example.com\"}"));
    assertTrue(none.getMessage().endsWith(": no signed message"), none.getMessage());
    assertNull(none.delivery().message());
  }

  @Test
  void keepsAFrameFieldThatIsNotIJson() throws Exception {
    ObjectNode message = FakeServer.text(BOB, "alice#example.com", "hi", 1);
    ObjectNode frame = FakeServer.deliver(1, "bob#example.com", message);
    frame.put("extra", new java.math.BigInteger("9007199254740993"));
    Delivery d = Delivery.verified(frame);
    assertTrue(d.frame().contains("\"extra\":9007199254740993"), d.frame());
  }
}
