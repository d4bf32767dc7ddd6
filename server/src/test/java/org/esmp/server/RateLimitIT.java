package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.keyAdd;
import static org.esmp.server.testing.Frames.keyRevoke;
import static org.esmp.server.testing.Frames.message;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;
import org.esmp.json.JsonWriter;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Rate limits (ESMP/1 section 3, issue 11 findings 5 and 6) over TCP against the real server, each
 * test on its own server with the one limit it shows set low (the others out of the way). Clients
 * on 127.0.0.2 count as another IP than those on 127.0.0.1.
 */
class RateLimitIT {

  @TempDir Path data;

  private EsmpServer start(UnaryOperator<ServerConfig.Builder> limits) throws Exception {
    return EsmpServer.start(limits.apply(TestServers.config(data)).build());
  }

  private static JsonObject lookup(String address) {
    return message("lookup", JsonObject.builder().put("address", address).build());
  }

  /** {@code unsigned} signed by {@code signer} but claiming {@code claimed}'s key: a bad signature. */
  private static String forged(JsonObject unsigned, TestIdentity signer, TestIdentity claimed) {
    JsonObject frame = signer.sign(unsigned).toBuilder().put("sender_pubkey", claimed.publicKey()).build();
    return new String(JsonWriter.write(frame), StandardCharsets.UTF_8);
  }

  private static void assertRateLimited(JsonNode answer) {
    assertError(answer, "rate_limited");
    assertTrue(answer.path("retry_after_ms").isIntegralNumber() && answer.path("retry_after_ms").asLong() >= 1,
        answer.toString());
  }

  @Test
  void aFloodOfForgedFramesIsRefusedUnverifiedWhileAClientOnAnotherIpKeepsItsRoundTrip() throws Exception {
    int rate = 50;
    int burst = 100;
    try (EsmpServer server = start(b -> b.ipFramesPerSecond(rate).ipFramesBurst(burst));
        TestClient good = new TestClient(server.port(), "127.0.0.2");
        TestClient flood = new TestClient(server.port(), "127.0.0.1")) {
      TestIdentity goodKey = TestIdentity.random();
      authenticate(good, goodKey, "good#example.com");
      TestIdentity forger = TestIdentity.random();
      TestIdentity victim = TestIdentity.random();

      AtomicBoolean stop = new AtomicBoolean();
      AtomicLong sent = new AtomicLong();
      CountDownLatch throttled = new CountDownLatch(1);
      AtomicInteger badSignature = new AtomicInteger();
      AtomicInteger rateLimited = new AtomicInteger();
      List<String> unexpected = Collections.synchronizedList(new ArrayList<>());
      // Signed beforehand: the flood costs this JVM (which runs the server too) only its writes.
      List<byte[]> batches = new ArrayList<>();
      for (int b = 0; b < 10; b++) {
        StringBuilder batch = new StringBuilder();
        for (int i = 0; i < 50; i++) {
          batch.append(forged(lookup("good#example.com"), forger, victim)).append('\n');
        }
        batches.add(batch.toString().getBytes(StandardCharsets.UTF_8));
      }
      long floodStart = System.nanoTime();
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          for (int b = 0; !stop.get(); b++) {
            flood.sendRaw(batches.get(b % batches.size()));
            sent.addAndGet(50);
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });
      CompletableFuture<Void> reader = CompletableFuture.runAsync(() -> {
        try {
          for (long read = 0; read < sent.get() || !writer.isDone(); ) {
            if (read == sent.get()) {
              Thread.onSpinWait(); // every answer so far is read: the next batch is on its way
              continue;
            }
            JsonNode answer = flood.read();
            read++;
            String code = answer.path("code").asText();
            if (code.equals("bad_signature")) {
              badSignature.incrementAndGet();
            } else if (code.equals("rate_limited") && answer.path("re").isNull()
                && answer.path("retry_after_ms").asLong() >= 1) {
              rateLimited.incrementAndGet();
              throttled.countDown();
            } else {
              unexpected.add(answer.toString());
            }
          }
        } catch (Exception e) {
          throw new IllegalStateException(e);
        }
      });

      assertTrue(throttled.await(30, TimeUnit.SECONDS), "the flood got rate_limited");
      List<Long> roundTrips = new ArrayList<>();
      for (int i = 0; i < 21; i++) {
        long begin = System.nanoTime();
        JsonNode answer = good.call(goodKey.frame(lookup("good#example.com")));
        roundTrips.add(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - begin));
        assertEquals("keys", answer.path("type").asText(), answer.toString());
      }
      assertFalse(writer.isDone(), "the flood went on all along");
      stop.set(true);
      writer.get(30, TimeUnit.SECONDS);
      reader.get(30, TimeUnit.SECONDS);
      double seconds = (System.nanoTime() - floodStart) / 1e9;

      assertTrue(unexpected.isEmpty(), "every answer is bad_signature or rate_limited: " + unexpected.subList(0,
          Math.min(3, unexpected.size())));
      // Only frames within the bucket were verified; all others were answered without that cost.
      assertTrue(badSignature.get() <= burst + rate * seconds + rate,
          badSignature + " verified in " + seconds + " s, of " + sent + " frames");
      assertTrue(badSignature.get() >= burst, "the burst was verified: " + badSignature);
      assertEquals(sent.get(), badSignature.get() + rateLimited.get(), "one answer per frame");
      Collections.sort(roundTrips);
      System.err.println("RateLimitIT: round trips under the flood " + roundTrips + " ms");
      long slowest = roundTrips.get(roundTrips.size() - 1);
      assertTrue(slowest < 100, "every round trip of the good client under the flood under 100 ms: all "
          + roundTrips + "; flood " + sent + " frames, " + rateLimited + " refused unverified");
    }
  }

  @Test
  void theFrameRateOfOneIpIsNotAnotherIps() throws Exception {
    try (EsmpServer server = start(b -> b.ipFramesPerSecond(1).ipFramesBurst(3));
        TestClient one = new TestClient(server.port(), "127.0.0.1");
        TestClient two = new TestClient(server.port(), "127.0.0.2")) {
      TestIdentity key = TestIdentity.random(); // bound to no address: verified, then unknown_sender
      for (int i = 0; i < 3; i++) {
        assertError(one.call(key.frame(lookup("a#example.com"))), "unknown_sender");
      }
      JsonNode refused = one.call(key.frame(lookup("a#example.com")));
      assertRateLimited(refused);
      assertTrue(refused.path("re").isNull(), "refused before any id was computed: " + refused);
      assertTrue(refused.path("retry_after_ms").asLong() <= 1000, refused.toString());
      assertError(two.call(key.frame(lookup("a#example.com"))), "unknown_sender");
    }
  }

  @Test
  void forgedFramesCannotSpendAnotherAddressesMessageRate() throws Exception {
    int burst = 5;
    try (EsmpServer server = start(b -> b.addressMessagesPerSecond(1).addressMessagesBurst(burst));
        TestClient aliceClient = new TestClient(server.port());
        TestClient bobClient = new TestClient(server.port());
        TestClient attacker = new TestClient(server.port(), "127.0.0.2")) {
      TestIdentity alice = TestIdentity.random();
      TestIdentity bob = TestIdentity.random();
      authenticate(aliceClient, alice, "alice#example.com");
      authenticate(bobClient, bob, "bob#example.com");
      for (int i = 0; i < 50; i++) {
        assertError(attacker.call(forged(lookup("alice#example.com"), TestIdentity.random(), alice)), "bad_signature");
      }
      // Alice's whole burst is still hers; pipelined, so no token comes back in between.
      StringBuilder pipelined = new StringBuilder();
      for (int i = 0; i < burst + 2; i++) {
        pipelined.append(alice.frame(lookup("bob#example.com"))).append('\n');
      }
      aliceClient.sendRaw(pipelined.toString().getBytes(StandardCharsets.UTF_8));
      for (int i = 0; i < burst; i++) {
        assertEquals("keys", aliceClient.read().path("type").asText(), "message " + i + " within alice's burst");
      }
      aliceClient.read(); // may have regained a token meanwhile
      JsonNode refused = aliceClient.read();
      assertRateLimited(refused);
      assertEquals(64, refused.path("re").asText().length(), "the id is known after verification: " + refused);
      assertEquals("keys", bobClient.call(bob.frame(lookup("alice#example.com"))).path("type").asText(),
          "bob's rate is his own");
    }
  }

  @Test
  void registrationsOverTheHourlyLimitOfAnIpAreRateLimited() throws Exception {
    try (EsmpServer server = start(b -> b.registrationsPerIpPerHour(3))) {
      TestIdentity first = TestIdentity.random();
      for (int i = 0; i < 3; i++) {
        try (TestClient client = new TestClient(server.port())) {
          TestIdentity key = i == 0 ? first : TestIdentity.random();
          assertTrue(authenticate(client, key, "user" + i + "#example.com").path("registered").asBoolean());
        }
      }
      try (TestClient client = new TestClient(server.port())) {
        JsonNode refused = client.call(TestIdentity.random().frame(
            org.esmp.server.testing.Frames.auth(client, "user3#example.com")));
        assertRateLimited(refused);
        long retry = refused.path("retry_after_ms").asLong();
        assertTrue(retry > 0 && retry <= TimeUnit.MINUTES.toMillis(20), "one registration back every 20 min: " + refused);
        assertFalse(authenticate(client, first, "user0#example.com").path("registered").asBoolean(),
            "signing in to an existing address is not a registration");
      }
      try (TestClient elsewhere = new TestClient(server.port(), "127.0.0.2")) {
        assertTrue(authenticate(elsewhere, TestIdentity.random(), "user3#example.com").path("registered").asBoolean(),
            "the limit is per IP");
      }
    }
  }

  @Test
  void keyChangesOverTheHourlyLimitOfAnAddressAreRateLimited() throws Exception {
    try (EsmpServer server = start(b -> b.keyChangesPerAddressPerHour(2));
        TestClient aliceClient = new TestClient(server.port());
        TestClient bobClient = new TestClient(server.port())) {
      TestIdentity alice = TestIdentity.random();
      TestIdentity bob = TestIdentity.random();
      authenticate(aliceClient, alice, "alice#example.com");
      authenticate(bobClient, bob, "bob#example.com");
      TestIdentity second = TestIdentity.random();
      TestIdentity third = TestIdentity.random();
      assertAck(aliceClient.call(alice.frame(keyAdd("alice#example.com", alice, second))));
      assertAck(aliceClient.call(alice.frame(keyAdd("alice#example.com", alice, third))));
      JsonNode refused = aliceClient.call(alice.frame(keyRevoke(third.publicKey())));
      assertRateLimited(refused);
      assertTrue(refused.path("retry_after_ms").asLong() <= TimeUnit.MINUTES.toMillis(30),
          "one change back every 30 min: " + refused);
      assertRateLimited(aliceClient.call(alice.frame(keyAdd("alice#example.com", alice, TestIdentity.random()))));
      assertEquals(3, aliceClient.call(alice.frame(lookup("alice#example.com"))).path("keys").size(),
          "the refused changes changed nothing");
      assertAck(bobClient.call(bob.frame(keyAdd("bob#example.com", bob, TestIdentity.random()))));
    }
  }
}
