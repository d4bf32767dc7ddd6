package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.testkit.InMemoryStorage;
import org.esmp.api.testkit.TestContext;
import org.esmp.api.testkit.TestFederation;
import org.esmp.api.testkit.TestRequest;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The plugin against a fake peer on a real socket: what it sends, in which order, what it resends
 * after a connection is lost or the peer asks for a pause, and the notices it leaves.
 */
class FederationRelayTest {

  private static final Address ALICE = Address.parse("alice#a.example");
  private static final Address BOB = Address.parse("bob#b.example");
  private static final Address CAROL = Address.parse("carol#b.example");
  private static final String PEER = "b.example";
  private static final long NOW = System.currentTimeMillis();

  @TempDir Path data;

  private final InMemoryStorage storage = new InMemoryStorage();
  private final List<AutoCloseable> closing = new ArrayList<>();
  private TestFederation federation;
  private TestContext context;
  private FakePeer peer;
  private int sequence;

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  /** The server a.example with the fake peer b.example pinned at its port. */
  private FederationRelay relayToPeer(Federation.Settings settings) throws Exception {
    peer = new FakePeer(PEER, "a.example");
    closing.add(peer);
    TestFederation built = TestFederation.builder(storage).settings(settings)
        .peer(new Federation.Peer(PEER, "127.0.0.1", peer.port(), Optional.of(peer.key()))).build();
    peer.verifier(built);
    return start(built);
  }

  private FederationRelay start(TestFederation built) {
    federation = built;
    context = TestContext.builder("federation").domains("a.example").storage(storage).dataDirectory(data.resolve("a"))
        .federation(built).build();
    context.register(ALICE);
    FederationRelay relay = new FederationRelay(context);
    closing.add(relay);
    return relay;
  }

  private static Federation.Settings settings() {
    return new Federation.Settings(Duration.ofSeconds(2), Duration.ofSeconds(2), Duration.ofMillis(200), 100_000,
        Duration.ofHours(168), Optional.empty());
  }

  private MailboxEntry entry(Address from, long receivedAt) {
    sequence++;
    JsonObject message = JsonObject.builder().put("type", "text").put("to", JsonArray.ofStrings(List.of(BOB.toString())))
        .put("body", JsonObject.builder().put("text", "message " + sequence).build()).put("ts", receivedAt)
        .put("signature", "c2ln").put("sender_pubkey", "a2V5").build();
    return MailboxEntry.direct(new MessageId(String.format("%064x", sequence)), from, receivedAt, message);
  }

  private long sent(Address address) {
    return storage.get(OutboxCursors.SPACE, address.toString())
        .map(b -> Long.parseLong(new String(b, StandardCharsets.US_ASCII))).orElse(0L);
  }

  private static void await(String what, BooleanSupplier condition) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > until) {
        throw new AssertionError("timed out waiting until " + what);
      }
      Thread.sleep(10);
    }
  }

  @Test
  void sendsEachAddressesEntriesInCursorOrderAndKeepsTheSentCursors() throws Exception {
    FederationRelay relay = relayToPeer(settings());
    for (int i = 0; i < 5; i++) {
      federation.append(BOB, entry(ALICE, NOW));
      federation.append(CAROL, entry(ALICE, NOW));
    }
    relay.appended(Set.of(PEER));

    await("both sent cursors are at 5", () -> sent(BOB) == 5 && sent(CAROL) == 5);
    List<FakePeer.Received> received = peer.received();
    assertEquals(10, received.size());
    List<String> bobs = received.stream().filter(r -> r.recipient().equals(BOB.toString()))
        .map(r -> r.message().get("body").asObject().string("text").orElseThrow()).toList();
    assertEquals(List.of("message 1", "message 3", "message 5", "message 7", "message 9"), bobs);
    FakePeer.Received first = received.get(0);
    assertEquals(ALICE.toString(), first.relay().string("from").orElseThrow());
    assertTrue(first.relay().has("ts"));
    assertEquals(1, peer.connections());
    assertEquals(List.of(), storage.mailbox(ALICE), "no notice when everything arrives");
    assertEquals(0, relay.outboxes().get(PEER).depth());
    assertTrue(relay.outboxes().get(PEER).lastSuccessMillis() > 0);
  }

  /**
   * Two servers of a cluster on one storage: only the one holding the outbox's lease sends it, so
   * each entry goes once and in order; when that one stops, the other takes over from the sent
   * cursors once the lease ran out.
   */
  @Test
  void twoServersOnOneStorageSendTheOutboxOnceAndTheOtherTakesOver() throws Exception {
    FederationRelay unused = relayToPeer(settings()); // sets up the peer, the federation and the context
    closing.remove(unused);
    unused.close();
    FederationRelay holder = new FederationRelay(context, 600);
    closing.add(holder);
    // Another server of the cluster: its own data directory, so its own name in the leases.
    TestContext second = TestContext.builder("federation").domains("a.example").storage(storage)
        .dataDirectory(data.resolve("second")).federation(federation).build();
    FederationRelay other = new FederationRelay(second, 600);
    closing.add(other);
    for (int i = 0; i < 20; i++) {
      federation.append(BOB, entry(ALICE, NOW));
    }
    holder.appended(Set.of(PEER));
    other.appended(Set.of(PEER));
    await("all twenty answered", () -> sent(BOB) == 20);
    List<String> texts = peer.received().stream()
        .map(r -> r.message().get("body").asObject().string("text").orElseThrow()).toList();
    List<String> expected = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      expected.add("message " + i);
    }
    assertEquals(expected, texts, "each entry once, in order, from one of the two");

    String sender = storage.get(OutboxLease.SPACE, PEER).map(b -> new String(b, StandardCharsets.US_ASCII))
        .orElseThrow().split(" ")[0];
    FederationRelay stopping = sender.equals(holder.leaseHolder()) ? holder : other;
    FederationRelay staying = stopping == holder ? other : holder;
    closing.remove(stopping);
    stopping.close();
    for (int i = 0; i < 5; i++) {
      federation.append(BOB, entry(ALICE, NOW));
    }
    staying.appended(Set.of(PEER));
    await("the other server sent the next five", () -> sent(BOB) == 25);
    texts = peer.received().stream().map(r -> r.message().get("body").asObject().string("text").orElseThrow()).toList();
    for (int i = 21; i <= 25; i++) {
      expected.add("message " + i);
    }
    assertEquals(expected, texts, "nothing twice across the takeover");
  }

  @Test
  void aServerKeepsItsNameInTheLeasesAcrossRestarts() {
    String name = FederationRelay.leaseHolder(data.resolve("node"));
    assertEquals(name, FederationRelay.leaseHolder(data.resolve("node")), "read back from its data directory");
    assertTrue(!name.equals(FederationRelay.leaseHolder(data.resolve("other-node"))), "another server, another name");
  }

  @Test
  void resendsFromTheSentCursorAfterTheConnectionDrops() throws Exception {
    FederationRelay relay = relayToPeer(settings());
    peer.script((frame, connection, index) -> connection == 1 && index == 3 ? null : FakePeer.ack());
    for (int i = 0; i < 5; i++) {
      federation.append(BOB, entry(ALICE, NOW));
    }
    relay.appended(Set.of(PEER));

    await("all five answered", () -> sent(BOB) == 5);
    List<String> second = peer.received().stream().filter(r -> r.connection() == 2)
        .map(r -> r.message().get("body").asObject().string("text").orElseThrow()).toList();
    assertEquals(List.of("message 3", "message 4", "message 5"), second,
        "the second connection starts at the first entry not answered, in order");
  }

  @Test
  void aRefusedEntryBecomesExactlyOneNoticeAndTheNextStillGoes() throws Exception {
    FederationRelay relay = relayToPeer(settings());
    peer.script((frame, connection, index) -> frame.get("message").asObject().get("body").asObject()
        .string("text").orElseThrow().equals("message 2")
        ? FakePeer.ack().toBuilder().put("rejected", JsonObject.builder().put(BOB.toString(), "unknown_recipient")
            .build()).build()
        : FakePeer.ack());
    MailboxEntry refused = null;
    for (int i = 0; i < 3; i++) {
      MailboxEntry entry = entry(ALICE, NOW);
      refused = i == 1 ? entry : refused;
      federation.append(BOB, entry);
    }
    relay.appended(Set.of(PEER));

    await("all three answered", () -> sent(BOB) == 3);
    relay.appended(Set.of(PEER)); // nothing new: no second notice
    Thread.sleep(200);
    assertEquals(3, peer.received().size());
    List<MailboxEntry> alices = storage.mailbox(ALICE);
    assertEquals(1, alices.size(), "one notice");
    MailboxEntry notice = alices.get(0);
    assertEquals(Address.parse("postmaster#a.example"), notice.from());
    assertEquals("delivery_failed", notice.message().string("type").orElseThrow());
    assertEquals(JsonObject.builder().put("id", refused.id().hex()).put("recipient", BOB.toString())
        .put("code", "unknown_recipient").build(), notice.message().get("body"));
    assertTrue(federation.verifies(notice.message()), "signed with the server key");
    assertEquals(federation.serverKey().base64(), notice.message().string("sender_pubkey").orElseThrow());
    assertEquals(federation.idOf(notice.message()), notice.id());
  }

  @Test
  void rateLimitedClosesWaitsAtLeastRetryAfterAndResendsInOrder() throws Exception {
    FederationRelay relay = relayToPeer(settings());
    long[] limitedAt = new long[1];
    long[] secondAt = new long[1];
    peer.script((frame, connection, index) -> {
      if (connection == 1 && index >= 2) {
        limitedAt[0] = limitedAt[0] == 0 ? System.nanoTime() : limitedAt[0];
        return FakePeer.error("rate_limited").toBuilder().put("retry_after_ms", 300).build();
      }
      if (connection == 2 && index == 1) {
        secondAt[0] = System.nanoTime();
      }
      return FakePeer.ack();
    });
    for (int i = 0; i < 4; i++) {
      federation.append(BOB, entry(ALICE, NOW));
    }
    relay.appended(Set.of(PEER));

    await("all four answered", () -> sent(BOB) == 4);
    assertTrue(secondAt[0] - limitedAt[0] >= TimeUnit.MILLISECONDS.toNanos(300), "waited retry_after_ms");
    List<String> second = peer.received().stream().filter(r -> r.connection() == 2)
        .map(r -> r.message().get("body").asObject().string("text").orElseThrow()).toList();
    assertEquals(List.of("message 2", "message 3", "message 4"), second);
    assertEquals(List.of(), storage.mailbox(ALICE), "rate_limited is no refusal");
  }

  @Test
  void forwardsAMessageAndAnswersWithThePeersAnswer() throws Exception {
    FederationRelay relay = relayToPeer(settings());
    peer.script((frame, connection, index) -> JsonObject.builder().put("type", "keys")
        .put("address", BOB.toString()).put("keys", JsonArray.of()).build());
    TestRequest lookup = TestRequest.builder("lookup", ALICE).sessionType()
        .body(JsonObject.builder().put("address", BOB.toString()).build()).build();

    Reply reply = relay.forward(lookup, PEER).toCompletableFuture().get(10, TimeUnit.SECONDS);
    assertEquals("keys", reply.type());
    assertEquals(JsonObject.builder().put("address", BOB.toString()).put("keys", JsonArray.of()).build(), reply.fields());
    JsonObject frame = peer.received().get(0).relay();
    assertEquals(JsonArray.of(), frame.get("to"));
    assertEquals(ALICE.toString(), frame.string("from").orElseThrow());
    assertEquals(lookup.message().fields(), frame.get("message"));
  }

  @Test
  void aForwardToAPeerThatCannotBeReachedIsPeerUnavailable() throws Exception {
    int closedPort;
    try (ServerSocket gone = new ServerSocket(0)) {
      closedPort = gone.getLocalPort();
    }
    TestFederation built = TestFederation.builder(storage).settings(settings())
        .peer(new Federation.Peer(PEER, "127.0.0.1", closedPort, Optional.of(FakePeerKeys.ANY))).build();
    FederationRelay relay = start(built);
    TestRequest lookup = TestRequest.builder("lookup", ALICE).sessionType().build();

    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> relay.forward(lookup, PEER).toCompletableFuture().get(10, TimeUnit.SECONDS));
    RejectedException rejected = assertInstanceOf(RejectedException.class, failed.getCause());
    assertEquals(ErrorCode.PEER_UNAVAILABLE, rejected.code());
    await("the failure is in the status", () -> relay.outboxes().get(PEER).lastError().contains("cannot connect"));
  }

  @Test
  void entriesPastTheAgeAndSizeBoundsBecomeNoticesWhileThePeerIsDown() throws Exception {
    int closedPort;
    try (ServerSocket gone = new ServerSocket(0)) {
      closedPort = gone.getLocalPort();
    }
    TestFederation built = TestFederation.builder(storage)
        .settings(new Federation.Settings(Duration.ofSeconds(1), Duration.ofSeconds(1), Duration.ofSeconds(60), 2,
            Duration.ofHours(1), Optional.empty()))
        .peer(new Federation.Peer(PEER, "127.0.0.1", closedPort, Optional.of(FakePeerKeys.ANY))).build();
    federation = built;
    built.append(BOB, entry(ALICE, NOW - Duration.ofHours(2).toMillis())); // too old
    for (int i = 0; i < 4; i++) {
      built.append(i % 2 == 0 ? BOB : CAROL, entry(ALICE, NOW + i)); // two too many
    }
    start(built); // sweeps at start

    await("three notices", () -> storage.mailbox(ALICE).size() == 3);
    List<String> ids = storage.mailbox(ALICE).stream()
        .map(n -> n.message().get("body").asObject().string("id").orElseThrow()).toList();
    assertEquals(List.of(String.format("%064x", 1), String.format("%064x", 2), String.format("%064x", 3)), ids,
        "the expired one, then the oldest past outbox_max_messages");
    storage.mailbox(ALICE).forEach(n -> assertEquals("peer_unavailable",
        n.message().get("body").asObject().string("code").orElseThrow()));
    assertEquals(2, sent(BOB));
    assertEquals(1, sent(CAROL));
  }

  @Test
  void closeStopsEveryThreadAndConnectionPromptly() throws Exception {
    FederationRelay relay = relayToPeer(settings());
    federation.append(BOB, entry(ALICE, NOW));
    relay.appended(Set.of(PEER));
    await("connected and sent", () -> sent(BOB) == 1);
    TestRequest lookup = TestRequest.builder("lookup", ALICE).sessionType().build();
    peer.script((frame, connection, index) -> null); // never answers, drops
    long started = System.nanoTime();

    relay.close();
    assertTrue(System.nanoTime() - started < TimeUnit.SECONDS.toNanos(2), "close is prompt");
    await("no federation thread is left", () -> Thread.getAllStackTraces().keySet().stream()
        .noneMatch(t -> t.isAlive() && t.getName().startsWith("federation")));
    ExecutionException failed = org.junit.jupiter.api.Assertions.assertThrows(ExecutionException.class,
        () -> relay.forward(lookup, PEER).toCompletableFuture().get(1, TimeUnit.SECONDS));
    assertEquals(ErrorCode.PEER_UNAVAILABLE, ((RejectedException) failed.getCause()).code());
  }
}
