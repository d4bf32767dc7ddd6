package org.esmp.server.federation;

import static org.esmp.server.federation.FederationFrames.assertRelayed;
import static org.esmp.server.federation.FederationFrames.ids;
import static org.esmp.server.federation.FederationFrames.lookup;
import static org.esmp.server.federation.FederationFrames.relay;
import static org.esmp.server.federation.FederationFrames.serverAuth;
import static org.esmp.server.federation.FederationFrames.strings;
import static org.esmp.server.federation.FederationFrames.verify;
import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.Await;
import org.esmp.server.testing.FakePeer;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.FederatedServer;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Federation (ESMP/1 section 8) between real servers in child JVMs on loopback ports: a.example and
 * b.example pin each other ({@code peers:} with the key {@code --print-server-key} printed for the
 * other's data directory before the first start). c.example is started only to pin a wrong key for
 * a.example. fake.example and evil.example are {@link FakePeer}s played by the test, with its own
 * server keys, pinned in a.example's configuration: fake.example also speaks server {@code auth}
 * and {@code relay} frames to a.example itself.
 *
 * <p>Tests stop and kill a.example and b.example; each test starts with both serving again.
 */
class FederationIT {

  /** How long a relayed message may take to arrive; only a failing test waits that long. */
  private static final Duration ARRIVAL = Duration.ofSeconds(30);

  @TempDir static Path dir;
  static FederatedServer a;
  static FederatedServer b;
  static FederatedServer c;
  static TestIdentity fakeKey = TestIdentity.random();
  static FakePeer fake;
  static FakePeer evil;

  @BeforeAll
  static void startServers() throws Exception {
    a = FederatedServer.create("a.example", dir);
    b = FederatedServer.create("b.example", dir);
    c = FederatedServer.create("c.example", dir);
    fake = new FakePeer("fake.example", fakeKey.publicKey());
    // evil.example is pinned to a key its hello does not announce.
    evil = new FakePeer("evil.example", TestIdentity.random().publicKey());
    a.pin(b, c).peer(fake.domain(), fake.port(), fakeKey.publicKey())
        .peer(evil.domain(), evil.port(), TestIdentity.random().publicKey());
    b.pin(a);
    c.peer(a.domain(), a.port(), TestIdentity.random().publicKey()); // a wrong pin for a.example
    FederatedServer.startAll(a, b);
  }

  @AfterAll
  static void stopServers() throws Exception {
    for (AutoCloseable closeable : new AutoCloseable[] {a, b, c, fake, evil}) {
      if (closeable != null) {
        closeable.close();
      }
    }
  }

  /** A test that failed with a server down leaves it down: the next one starts it again. */
  @BeforeEach
  void bothServe() throws Exception {
    for (FederatedServer server : List.of(a, b)) {
      if (!server.running()) {
        server.start();
      }
    }
  }

  private static String logs() {
    return a.log() + b.log() + (c.running() ? c.log() : "");
  }

  /** Waits until {@code user}'s mailbox on {@code server} holds every one of {@code ids}; returns the mailbox. */
  private static List<JsonNode> awaitArrival(FederatedServer server, TestUser user, List<String> ids) throws Exception {
    return Await.until(ids.size() + " messages in " + user.address() + "'s mailbox", ARRIVAL,
        () -> server.mailbox(user), mailbox -> ids(mailbox).containsAll(ids), FederationIT::logs);
  }

  @Test
  void directMessagesGoBothWaysAndVerifyUnderTheSendersLookedUpKey() throws Exception {
    TestUser alice = a.register("alice");
    TestUser bob = b.register("bob");

    String toBob = assertRelayed(alice.send(text("hello from a", bob.address())), bob.address());
    String toAlice = assertRelayed(bob.send(text("hello from b", alice.address())), alice.address());

    List<JsonNode> bobs = awaitArrival(b, bob, List.of(toBob));
    assertEquals(List.of(toBob), ids(bobs), "bob's mailbox holds alice's message, once");
    JsonNode fromAlice = bobs.get(0);
    assertEquals(alice.address(), fromAlice.path("from").asText());
    assertEquals("hello from a", fromAlice.path("message").path("body").path("text").asText());
    assertFalse(fromAlice.has("group_id"), fromAlice.toString());
    String aliceKey = verify(fromAlice);
    JsonNode keys = bob.send(lookup(alice.address()));
    assertEquals("keys", keys.path("type").asText(), keys.toString());
    assertEquals(alice.address(), keys.path("address").asText());
    assertEquals(List.of(aliceKey), strings(keys.path("keys")), "b.example's client looks alice up at a.example");
    assertEquals(alice.key().publicKey(), aliceKey);

    List<JsonNode> alices = awaitArrival(a, alice, List.of(toAlice));
    assertEquals(List.of(toAlice), ids(alices));
    assertEquals(bob.address(), alices.get(0).path("from").asText());
    String bobKey = verify(alices.get(0));
    assertEquals(List.of(bobKey), strings(alice.send(lookup(bob.address())).path("keys")));
    assertEquals(bob.key().publicKey(), bobKey);

    // An address that does not exist at the peer: no keys.
    JsonNode none = alice.send(lookup(b.address("nobody-here")));
    assertEquals("keys", none.path("type").asText(), none.toString());
    assertEquals(List.of(), strings(none.path("keys")));
  }

  @Test
  void aThousandMessagesSentWhileTheReceiverIsDownArriveOnceInOrder() throws Exception {
    TestUser alice = a.register("sender");
    TestUser bob = b.register("receiver");
    b.stop();

    JsonNode unavailable = alice.send(lookup(bob.address()));
    assertError(unavailable, "peer_unavailable");

    List<String> frames = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      frames.add(alice.key().frame(text("message " + i, bob.address())));
    }
    long started = System.nanoTime();
    List<JsonNode> acks = alice.sendPipelined(frames);
    List<String> sent = new ArrayList<>();
    for (JsonNode ack : acks) {
      sent.add(assertRelayed(ack, bob.address()));
    }
    assertFalse(b.running(), "every ack came while b.example was down");
    System.out.printf("FederationIT: 1000 acks while the peer was down in %d ms%n", (System.nanoTime() - started) / 1_000_000);

    b.start();
    started = System.nanoTime();
    awaitArrival(b, bob, sent);
    System.out.printf("FederationIT: 1000 relayed %d ms after the peer serves again%n", (System.nanoTime() - started) / 1_000_000);
    // One more behind them: whatever the outbox resent before it would show now.
    String marker = assertRelayed(alice.send(text("marker", bob.address())), bob.address());
    List<JsonNode> mailbox = awaitArrival(b, bob, List.of(marker));
    List<String> expected = new ArrayList<>(sent);
    expected.add(marker);
    assertEquals(expected, ids(mailbox), "each message exactly once, in the order sent");
    for (int i = 0; i < 1000; i++) {
      assertEquals(alice.address(), mailbox.get(i).path("from").asText());
      assertEquals("message " + i, mailbox.get(i).path("message").path("body").path("text").asText());
    }
    verify(mailbox.get(999));
    assertEquals(List.of(bob.key().publicKey()), strings(alice.send(lookup(bob.address())).path("keys")));
  }

  @Test
  void theSendersOutboxSurvivesSigkillAndIsDeliveredExactlyOnce() throws Exception {
    TestUser alice = a.register("killed");
    TestUser bob = b.register("patient");

    // The outbox certainly holds them: b.example is down when a.example is killed.
    b.stop();
    List<String> frames = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      frames.add(alice.key().frame(text("held " + i, bob.address())));
    }
    List<String> held = new ArrayList<>();
    for (JsonNode ack : alice.sendPipelined(frames)) {
      held.add(assertRelayed(ack, bob.address()));
    }
    a.kill();
    FederatedServer.startAll(a, b);
    List<JsonNode> mailbox = awaitArrival(b, bob, held);
    assertEquals(held, ids(mailbox), "each held message exactly once, in order, after the restart");

    // Killed again in the middle of a flush: what was relayed but not yet recorded as sent is sent
    // again, and the peer's dedupe keeps it once.
    alice = alice.reconnect(a.port());
    frames.clear();
    for (int i = 0; i < 1000; i++) {
      frames.add(alice.key().frame(text("flushing " + i, bob.address())));
    }
    List<String> flushing = new ArrayList<>();
    for (JsonNode ack : alice.sendPipelined(frames)) {
      flushing.add(assertRelayed(ack, bob.address()));
    }
    List<JsonNode> atKill = Await.until("the flush to start", ARRIVAL, () -> b.mailbox(bob),
        box -> box.size() > held.size(), FederationIT::logs);
    a.kill();
    System.out.printf("FederationIT: a.example killed with %d of 1000 relayed%n", atKill.size() - held.size());
    a.start();
    alice = alice.reconnect(a.port());
    String marker = assertRelayed(alice.send(text("marker", bob.address())), bob.address());
    List<String> expected = new ArrayList<>(held);
    expected.addAll(flushing);
    expected.add(marker);
    mailbox = awaitArrival(b, bob, expected);
    assertEquals(expected, ids(mailbox), "each message exactly once, in order, across the kills");
  }

  @Test
  void aServerPinningAnotherKeyForTheSenderRefusesItAndNothingArrives() throws Exception {
    c.start();
    try {
      TestUser carol = c.register("carol");
      TestUser alice = a.register("pinned");
      String id = assertRelayed(alice.send(text("to a server that pinned another key", carol.address())), carol.address());
      // c.example answers a.example's server auth with forbidden; a.example says so.
      Await.until("a.example's log to tell that c.example refused it (forbidden)", ARRIVAL,
          () -> a.logLines().stream().anyMatch(line -> line.contains("c.example") && line.contains("forbidden")),
          FederationIT::logs);
      assertEquals(List.of(), c.mailbox(carol), "nothing delivered under a wrong pin");

      // Pinned right, c.example takes what a.example kept for it: the refusal was not for good.
      c.stop();
      c.pin(a);
      c.start();
      assertEquals(List.of(id), ids(awaitArrival(c, carol, List.of(id))));
      assertEquals(List.of(), a.mailbox(alice), "no delivery_failed notice for a refused server auth");
    } finally {
      c.kill();
    }
  }

  @Test
  void aPeerWhoseHelloAnnouncesAnotherKeyThanItsPinGetsNothing() throws Exception {
    TestUser alice = a.register("cautious");
    assertRelayed(alice.send(text("for evil", "mallory#evil.example")), "mallory#evil.example");
    Await.until("a.example to connect to evil.example", ARRIVAL, () -> evil.connections() > 0, FederationIT::logs);
    Await.until("a.example to log an ERROR about evil.example's key", ARRIVAL,
        () -> a.logLines().stream().anyMatch(line -> line.contains("ERROR") && line.contains("evil.example")),
        FederationIT::logs);
    assertEquals(List.of(), evil.received(), "no auth, no relay to a server announcing another key");
  }

  @Test
  void speaksSignedServerAuthAndRelayToAPinnedPeer() throws Exception {
    TestUser alice = a.register("outward");
    JsonObject signed = alice.key().sign(text("to the fake peer", "frank#fake.example"));
    String id = assertRelayed(alice.client().call(json(signed)), "frank#fake.example");
    assertEquals(TestIdentity.id(signed), id);
    List<FakePeer.Received> relays = Await.until("a relay at fake.example", ARRIVAL, () -> fake.received("relay"),
        r -> !r.isEmpty(), FederationIT::logs);
    FakePeer.Received relayed = relays.get(0);
    List<FakePeer.Received> auths = fake.received("auth").stream()
        .filter(auth -> auth.connection() == relayed.connection()).toList();
    assertEquals(1, auths.size(), "one server auth on the relay's connection, before it: " + fake.received());
    FakePeer.Received auth = auths.get(0);
    assertEquals(a.key(), auth.frame().path("sender_pubkey").asText(), "signed by a.example's server key");
    assertTrue(auth.id() != null, "its signature verifies: " + auth.frame());
    JsonNode body = auth.frame().path("body");
    assertEquals(Map.of("server", "a.example", "challenge", auth.challenge(), "domain", "fake.example"),
        Map.of("server", body.path("server").asText(), "challenge", body.path("challenge").asText(),
            "domain", body.path("domain").asText()));

    JsonNode relay = relayed.frame();
    assertEquals(a.key(), relay.path("sender_pubkey").asText());
    assertTrue(relayed.id() != null, "the relay's signature verifies: " + relay);
    assertEquals(List.of("frank#fake.example"), strings(relay.path("to")));
    assertEquals(alice.address(), relay.path("from").asText());
    assertFalse(relay.has("group_id"), relay.toString());
    assertTrue(relay.path("ts").canConvertToLong(), relay.toString());
    assertEquals(id, org.esmp.client.Messages.verify(relay.path("message")), "the original message, its signature intact");
    assertEquals(1, fake.received("relay").size(), "acked once, relayed once: " + fake.received());
  }

  @Test
  void refusesRelaysFromTheWrongDomainWithABrokenSignatureOrBeforeServerAuth() throws Exception {
    TestUser alice = a.register("target");
    TestIdentity eve = TestIdentity.random();
    String eveAddress = "eve#fake.example";
    try (TestClient peer = new TestClient(a.port())) {
      JsonObject hello = eve.sign(text("hello alice", alice.address()));
      assertError(peer.call(fakeKey.frame(relay(List.of(alice.address()), eveAddress, hello))), "auth_required");
      assertError(peer.call(TestIdentity.random().frame(serverAuth(peer, "fake.example"))), "forbidden");
      assertError(peer.call(fakeKey.frame(serverAuth(peer, "b.example"))), "forbidden");

      JsonObject auth = fakeKey.sign(serverAuth(peer, "fake.example"));
      JsonNode authed = assertAck(peer.call(json(auth)));
      assertEquals(TestIdentity.id(auth), authed.path("re").asText());
      assertEquals("fake.example", authed.path("server").asText(), authed.toString());

      // A delivery, then the same inner message again: stored once.
      JsonObject first = fakeKey.sign(relay(List.of(alice.address()), eveAddress, hello));
      JsonNode ack = assertAck(peer.call(json(first)));
      assertEquals(TestIdentity.id(first), ack.path("re").asText());
      assertFalse(ack.path("duplicate").asBoolean(), ack.toString());
      assertTrue(assertAck(peer.call(fakeKey.frame(relay(List.of(alice.address()), eveAddress, hello))))
          .path("duplicate").asBoolean());

      // from a domain fake.example does not serve (b.example's pin is another key).
      JsonObject mallory = eve.sign(text("from b?", alice.address()));
      assertError(peer.call(fakeKey.frame(relay(List.of(alice.address()), "mallory#b.example", mallory))), "forbidden");
      // an inner signature that fails: the body changed after signing.
      JsonObject signed = eve.sign(text("original", alice.address()));
      JsonObject tampered = signed.toBuilder()
          .put("body", JsonObject.builder().put("text", "tampered").build()).build();
      assertError(peer.call(fakeKey.frame(relay(List.of(alice.address()), eveAddress, tampered))), "bad_signature");
      // a signed inner from that is not the relay's from.
      JsonObject otherFrom = eve.sign(text("who?", alice.address()).toBuilder().put("from", "trent#fake.example").build());
      assertError(peer.call(fakeKey.frame(relay(List.of(alice.address()), eveAddress, otherFrom))), "forbidden");
      // a relay on this connection signed by another key than fake.example's.
      JsonObject other = eve.sign(text("other key", alice.address()));
      assertError(peer.call(TestIdentity.random().frame(relay(List.of(alice.address()), eveAddress, other))), "forbidden");
      // recipients: one that does not exist; one not of this server.
      JsonObject toNobody = eve.sign(text("nobody", a.address("nobody-at-all")));
      assertError(peer.call(fakeKey.frame(relay(List.of(a.address("nobody-at-all")), eveAddress, toNobody))),
          "unknown_recipient");
      JsonObject elsewhere = eve.sign(text("not yours", "bob#b.example"));
      assertError(peer.call(fakeKey.frame(relay(List.of("bob#b.example"), eveAddress, elsewhere))), "bad_field");

      // A forward (to: []): the inner lookup is answered as eve's own, re the relay's id.
      JsonObject forward = fakeKey.sign(relay(List.of(), eveAddress, eve.sign(lookup(alice.address()))));
      JsonNode keys = peer.call(json(forward));
      assertEquals("keys", keys.path("type").asText(), keys.toString());
      assertEquals(TestIdentity.id(forward), keys.path("re").asText());
      assertEquals(List.of(alice.key().publicKey()), strings(keys.path("keys")));

      List<JsonNode> mailbox = a.mailbox(alice);
      assertEquals(List.of(TestIdentity.id(hello)), ids(mailbox), "the accepted delivery, once; nothing of the refused ones");
      for (JsonNode delivered : mailbox) {
        assertEquals(eveAddress, delivered.path("from").asText());
        assertEquals(eve.publicKey(), verify(delivered));
      }
    }
  }

  /**
   * Thread entries of a group whose home is the peer: each delivered with its group_id and seq, the
   * group's home recorded from the first and the entries after it still delivered.
   */
  @Test
  void deliversAPeersThreadEntriesInTurn() throws Exception {
    TestUser alice = a.register("member");
    TestIdentity eve = TestIdentity.random();
    String group = java.util.UUID.randomUUID().toString();
    try (TestClient peer = new TestClient(a.port())) {
      assertAck(peer.call(fakeKey.frame(serverAuth(peer, "fake.example"))));
      List<String> sent = new ArrayList<>();
      JsonObject created = eve.sign(Frames.groupMessage("group_created", group, JsonObject.builder()
          .put("members", org.esmp.api.json.JsonArray.ofStrings(List.of(alice.address()))).build()));
      for (int seq = 1; seq <= 3; seq++) {
        JsonObject entry = seq == 1 ? created : eve.sign(Frames.groupText(group, "post " + seq));
        JsonObject frame = relay(List.of(alice.address()), "eve#fake.example", entry).toBuilder()
            .put("group_id", group).put("seq", seq).build();
        JsonNode answer = peer.call(fakeKey.frame(frame));
        assertAck(answer);
        assertFalse(answer.path("duplicate").asBoolean(), answer.toString());
        sent.add(TestIdentity.id(entry));
      }
      List<JsonNode> mailbox = a.mailbox(alice);
      assertEquals(sent, ids(mailbox));
      assertEquals(List.of(1L, 2L, 3L), mailbox.stream().map(e -> e.path("seq").asLong()).toList());
      assertEquals(List.of(group, group, group), mailbox.stream().map(e -> e.path("group_id").asText()).toList());
    }
  }

  /**
   * The home of a group relays every thread entry, whoever posted it (ESMP/1 section 8, Groups): an
   * entry whose {@code from} is a member of a third domain comes from the home, not from that
   * member's server, and is delivered.
   */
  @Test
  void deliversAThreadEntryOfAThirdDomainsMemberFromTheGroupsHome() throws Exception {
    TestUser alice = a.register("member");
    TestIdentity eve = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    String group = java.util.UUID.randomUUID().toString();
    try (TestClient peer = new TestClient(a.port())) {
      assertAck(peer.call(fakeKey.frame(serverAuth(peer, "fake.example"))));
      JsonObject created = eve.sign(Frames.groupMessage("group_created", group, JsonObject.builder()
          .put("members", org.esmp.api.json.JsonArray.ofStrings(List.of(alice.address(), "bob#b.example"))).build()));
      JsonObject post = bob.sign(Frames.groupText(group, "bob's post, relayed by the home"));
      assertAck(peer.call(fakeKey.frame(relay(List.of(alice.address()), "eve#fake.example", created).toBuilder()
          .put("group_id", group).put("seq", 1).build())));
      JsonNode answer = peer.call(fakeKey.frame(relay(List.of(alice.address()), "bob#b.example", post).toBuilder()
          .put("group_id", group).put("seq", 2).build()));
      assertAck(answer);
      List<JsonNode> mailbox = a.mailbox(alice);
      assertEquals(List.of(TestIdentity.id(created), TestIdentity.id(post)), ids(mailbox));
      assertEquals("bob#b.example", mailbox.get(1).path("from").asText());
    }
  }

  /**
   * A peer is limited like a client, per server after verification; once a relay is refused, the
   * ones behind it on that connection are too, so that none overtakes it; on a new connection,
   * after the wait, relays go through again.
   */
  @Test
  void aPeerOverItsRateIsRefusedFromThatRelayOnUntilItReconnects() throws Exception {
    try (FederatedServer d = FederatedServer.create("d.example", dir)) {
      d.peer(fake.domain(), fake.port(), fakeKey.publicKey())
          .settings("peer_messages_per_second: 1\npeer_messages_burst: 2\n").start();
      TestUser dora = d.register("dora");
      TestIdentity eve = TestIdentity.random();
      List<JsonObject> messages = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        messages.add(eve.sign(text("burst " + i, dora.address())));
      }
      try (TestClient peer = new TestClient(d.port())) {
        assertAck(peer.call(fakeKey.frame(serverAuth(peer, "fake.example"))));
        for (JsonObject message : messages) {
          peer.send(fakeKey.frame(relay(List.of(dora.address()), "eve#fake.example", message)));
        }
        assertAck(peer.read());
        assertAck(peer.read());
        JsonNode limited = peer.read();
        assertError(limited, "rate_limited");
        assertTrue(limited.path("retry_after_ms").asLong() > 0, limited.toString());
        assertError(peer.read(), "rate_limited");
        Thread.sleep(limited.path("retry_after_ms").asLong() + 100);
        // The wait is over, but this connection stays held: the peer must resend in order elsewhere.
        assertError(peer.call(fakeKey.frame(relay(List.of(dora.address()), "eve#fake.example", messages.get(2)))),
            "rate_limited");
      }
      try (TestClient peer = new TestClient(d.port())) {
        assertAck(peer.call(fakeKey.frame(serverAuth(peer, "fake.example"))));
        assertAck(peer.call(fakeKey.frame(relay(List.of(dora.address()), "eve#fake.example", messages.get(2)))));
      }
      assertEquals(List.of(TestIdentity.id(messages.get(0)), TestIdentity.id(messages.get(1)),
          TestIdentity.id(messages.get(2))), ids(d.mailbox(dora)), "in order, the refused ones not stored");
    }
  }

  /**
   * A peer cannot pass itself off as the home of a group that lives here: its entries would make
   * this server forward the group's traffic to it.
   */
  @Test
  void refusesThreadEntriesOfAGroupThatLivesHere() throws Exception {
    TestUser alice = a.register("owner");
    TestIdentity eve = TestIdentity.random();
    String local = java.util.UUID.randomUUID().toString();
    assertEquals(1, assertAck(alice.send(Frames.groupMessage("group_created", local, JsonObject.builder().build())))
        .path("seq").asLong());
    try (TestClient peer = new TestClient(a.port())) {
      assertAck(peer.call(fakeKey.frame(serverAuth(peer, "fake.example"))));
      JsonObject fakePost = eve.sign(Frames.groupText(local, "the home is mine now"));
      assertError(peer.call(fakeKey.frame(relay(List.of(alice.address()), "eve#fake.example", fakePost).toBuilder()
          .put("group_id", local).put("seq", 2).build())), "forbidden");
      assertEquals(List.of(), ids(a.mailbox(alice)).stream().filter(TestIdentity.id(fakePost)::equals).toList());
      // Still this server's group: alice's next post is appended here, seq 2.
      assertEquals(2, assertAck(alice.send(Frames.groupText(local, "still mine"))).path("seq").asLong());
    }
  }

  /**
   * federation-wire: a delivery relay's {@code to} lists addresses of this server; each existing one
   * gets the entry, the others are {@code rejected} as {@code unknown_recipient} (as ESMP/1 section 8:
   * "carrying rejected per recipient").
   */
  @Test
  void aDeliveryToSeveralAddressesRejectsOnlyTheUnknownOne() throws Exception {
    TestUser alice = a.register("several");
    TestUser amy = a.register("several");
    String nobody = a.address("nobody-of-several");
    TestIdentity eve = TestIdentity.random();
    try (TestClient peer = new TestClient(a.port())) {
      assertAck(peer.call(fakeKey.frame(serverAuth(peer, "fake.example"))));
      JsonObject toAll = eve.sign(text("to all", alice.address(), amy.address(), nobody));
      JsonNode partly = peer.call(fakeKey.frame(relay(List.of(alice.address(), amy.address(), nobody), "eve#fake.example", toAll)));
      assertAck(partly);
      assertEquals(Map.of(nobody, "unknown_recipient"), Map.of(nobody, partly.path("rejected").path(nobody).asText()),
          partly.toString());
      assertEquals(1, partly.path("rejected").size(), partly.toString());
      assertEquals(List.of(TestIdentity.id(toAll)), ids(a.mailbox(alice)));
      assertEquals(List.of(TestIdentity.id(toAll)), ids(a.mailbox(amy)));
    }
  }

  @Test
  void anUnknownRecipientAtThePeerGivesOneNoticeAndTheNextMessageArrives() throws Exception {
    TestUser alice = a.register("notified");
    TestUser bob = b.register("present");
    String nobody = b.address("nobody-there");
    String first = assertRelayed(alice.send(text("to nobody", nobody)), nobody);
    String both = assertRelayed(alice.send(text("to both", nobody, bob.address())), nobody, bob.address());
    String next = assertRelayed(alice.send(text("next", bob.address())), bob.address());
    assertEquals(List.of(both, next), ids(awaitArrival(b, bob, List.of(both, next))));

    Await.until("two delivery_failed notices for alice", ARRIVAL, () -> a.mailbox(alice), box -> box.size() >= 2,
        FederationIT::logs);
    String again = assertRelayed(alice.send(text("to nobody again", nobody)), nobody);
    List<JsonNode> notices = Await.until("three notices for alice", ARRIVAL, () -> a.mailbox(alice),
        box -> box.size() >= 3, FederationIT::logs);
    assertEquals(3, notices.size(), "one notice per refused message: " + notices);
    List<String> about = new ArrayList<>();
    for (JsonNode notice : notices) {
      JsonNode message = notice.path("message");
      assertEquals("postmaster#a.example", notice.path("from").asText(), notice.toString());
      assertEquals("delivery_failed", message.path("type").asText(), notice.toString());
      assertEquals("postmaster#a.example", message.path("from").asText(), notice.toString());
      assertEquals(List.of(alice.address()), strings(message.path("to")), notice.toString());
      assertEquals(nobody, message.path("body").path("recipient").asText(), notice.toString());
      assertEquals("unknown_recipient", message.path("body").path("code").asText(), notice.toString());
      assertEquals(a.key(), verify(notice), "signed by a.example's server key");
      about.add(message.path("body").path("id").asText());
    }
    assertEquals(List.of(first, both, again), about, "a notice for each message refused, in order");
    assertEquals(List.of(both, next), ids(b.mailbox(bob)), "bob got each message for him once");
  }

  private static String json(JsonObject signed) {
    return new String(org.esmp.json.JsonWriter.write(signed), java.nio.charset.StandardCharsets.UTF_8);
  }
}
