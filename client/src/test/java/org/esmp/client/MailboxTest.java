package org.esmp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Handing deliveries to the listener once each, and the cursors, with no connection. */
class MailboxTest {

  private static final SigningKey BOB = SigningKey.generate();

  @TempDir Path dir;

  /** Records what it is handed; throws on the texts in {@code failOn}. */
  private static final class Listener implements DeliveryListener {
    final List<Object> seen = new ArrayList<>();
    final List<String> failOn = new ArrayList<>();

    @Override
    public void onDelivery(Delivery d) {
      if (failOn.remove(d.text())) {
        throw new IllegalStateException("not now");
      }
      seen.add(d.text());
    }

    @Override
    public void onRefused(InvalidMessageException refused) {
      seen.add(refused);
    }
  }

  @Test
  void handsEachVerifiedDeliveryToTheListenerAndSavesItsCursor() throws IOException {
    Identity me = Identity.create(dir.resolve("alice.json"), "alice#example.com");
    Mailbox mailbox = new Mailbox(me);
    Listener listener = new Listener();
    mailbox.listen(listener, true);
    mailbox.deliver(delivery(1, "one"));
    mailbox.deliver(delivery(2, "two"));
    assertEquals(List.of("one", "two"), listener.seen);
    assertEquals(2, Identity.load(dir.resolve("alice.json")).cursor());
    assertEquals(2, mailbox.since());
  }

  @Test
  void aRefusedDeliveryGoesToOnRefusedAndItsCursorIsSavedToo() throws IOException {
    Identity me = Identity.inMemory("alice#example.com", SigningKey.generate());
    Mailbox mailbox = new Mailbox(me);
    Listener listener = new Listener();
    mailbox.listen(listener, true);
    ObjectNode forged = delivery(1, "pay 10");
    ((ObjectNode) forged.path("message").path("body")).put("text", "pay 1000");
    mailbox.deliver(forged);
    InvalidMessageException refused = assertInstanceOf(InvalidMessageException.class, listener.seen.get(0));
    assertEquals(1L, refused.delivery().cursor());
    assertEquals(1, me.cursor());
  }

  @Test
  void anEntryHandedOutIsNotHandedOutAgainAfterAResync() {
    Identity me = Identity.inMemory("alice#example.com", SigningKey.generate());
    Mailbox mailbox = new Mailbox(me);
    Listener listener = new Listener();
    mailbox.listen(listener, true);
    mailbox.deliver(delivery(1, "one"));
    mailbox.deliver(delivery(2, "two"));
    mailbox.deliver(delivery(2, "two")); // the next sync repeats it
    mailbox.deliver(delivery(3, "three"));
    assertEquals(List.of("one", "two", "three"), listener.seen);
  }

  @Test
  void aListenerThatThrowsLeavesTheCursorWhereItWas() {
    Identity me = Identity.inMemory("alice#example.com", SigningKey.generate());
    Mailbox mailbox = new Mailbox(me);
    Listener listener = new Listener();
    listener.failOn.add("two");
    mailbox.listen(listener, true);
    mailbox.deliver(delivery(1, "one"));
    mailbox.deliver(delivery(2, "two"));
    assertEquals(1, me.cursor());
    assertEquals(1, mailbox.since());
    mailbox.deliver(delivery(2, "two")); // again, on the next sync
    assertEquals(List.of("one", "two"), listener.seen);
    assertEquals(2, me.cursor());
  }

  @Test
  void aQueueSavesNothingButTheNextSyncStartsAfterWhatItWasHanded() throws Exception {
    Identity me = Identity.inMemory("alice#example.com", SigningKey.generate());
    me.saveCursor(4);
    Mailbox mailbox = new Mailbox(me);
    assertEquals(4, mailbox.since());
    DeliveryQueue queue = new DeliveryQueue(me);
    mailbox.listen(queue, false);
    mailbox.deliver(delivery(5, "five"));
    assertEquals(4, me.cursor(), "saved by done(), not here");
    assertEquals(5, mailbox.since());
    queue.done(queue.take(java.time.Duration.ZERO));
    assertEquals(5, me.cursor());
  }

  @Test
  void withoutAListenerNothingIsHandedOut() {
    Identity me = Identity.inMemory("alice#example.com", SigningKey.generate());
    Mailbox mailbox = new Mailbox(me);
    mailbox.deliver(delivery(1, "one"));
    assertEquals(0, mailbox.since());
    Listener listener = new Listener();
    mailbox.listen(listener, true);
    assertSame(listener, mailbox.stop());
    assertNull(mailbox.listener());
    mailbox.deliver(delivery(2, "two"));
    assertTrue(listener.seen.isEmpty());
    assertEquals(0, me.cursor());
  }

  @Test
  void anEphemeralDeliveryHasNoCursorToSave() {
    Identity me = Identity.inMemory("alice#example.com", SigningKey.generate());
    Mailbox mailbox = new Mailbox(me);
    Listener listener = new Listener();
    mailbox.listen(listener, true);
    ObjectNode ephemeral = delivery(1, "typing");
    ephemeral.remove("cursor");
    mailbox.deliver(ephemeral);
    mailbox.deliver(ephemeral);
    assertEquals(List.of("typing", "typing"), listener.seen);
    assertEquals(0, mailbox.since());
  }

  private static ObjectNode delivery(long cursor, String text) {
    return FakeServer.deliver(cursor, "bob#example.com", FakeServer.text(BOB, "alice#example.com", text, cursor));
  }
}
