package org.esmp.server.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.channel.embedded.EmbeddedChannel;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.Reply;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.json.FrameParser;
import org.esmp.json.ServerJsonCodec;
import org.esmp.server.limits.MemoryBudget;
import org.esmp.server.mailbox.MailboxService;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.session.AddressStates;
import org.esmp.server.session.ConnectionSession;
import org.esmp.server.session.OutputMeter;
import org.esmp.server.store.Commits;
import org.esmp.server.store.ServerMailboxes;
import org.esmp.server.testing.Frames;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestServers;
import org.esmp.server.verify.FrameVerifier;
import org.esmp.server.verify.Verdict;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * One message arriving on two paths at once that do not know of each other: two dispatchers, each
 * with its own in-flight map (the in-process fast path of dedupe), over one storage: the
 * {@code storage-mapdb} plugin and the bundled delivery plugins loaded by PF4J from their jars, as
 * two servers of a cluster would share a database. Only the storage's insert-if-absent of the
 * accepted id can decide: one copy is stored, the other answered as a duplicate.
 */
class DuplicateRaceIT {

  private static final Address ALICE = Address.parse("alice#example.com");
  private static final Address BOB = Address.parse("bob#example.com");
  private static final Predicate<String> SESSION_TYPES = Set.of("auth", "sync", "lookup", "history", "group_info")::contains;

  @TempDir Path data;
  private final ExecutorService workers = Executors.newFixedThreadPool(4);
  private PluginHost host;

  @AfterEach
  void close() {
    workers.shutdownNow();
    if (host != null) {
      host.registry().storage().ifPresent(owned -> owned.extension().close());
      host.close();
    }
  }

  /** One path into the shared storage: its own mailboxes, commit path and dispatcher. */
  private Dispatcher path(ServerConfig config, Commits commits) {
    return new Dispatcher(config, host, Map.of(), SESSION_TYPES, commits, new AddressStates(), new ListenerBus(),
        Clock.systemUTC(), ServerMetrics.off());
  }

  @Test
  void aDuplicateRacedOnTwoPathsIsStoredOnceAndAnsweredOnceAsADuplicate() throws Exception {
    ServerConfig config = TestServers.config(data).build();
    MailboxService mailboxes = new MailboxService(this::storage, workers);
    Commits shared = new Commits(this::storage, mailboxes::publish, Clock.systemUTC(), workers, ServerMetrics.off());
    host = new PluginHost(config, data.resolve("plugin-copies"), Set.of(), shared, new ServerMailboxes(shared, mailboxes),
        new ServerJsonCodec(), ServerMetrics.off());
    host.start();
    TestIdentity alice = TestIdentity.random();
    TestIdentity bob = TestIdentity.random();
    commit(StorageChange.builder().bindKey(ALICE, key(alice)).bindKey(BOB, key(bob)).build());

    FrameVerifier verifier = new FrameVerifier(new FrameParser(), new Ed25519Verifier(64), SESSION_TYPES);
    int rounds = 20;
    for (int round = 0; round < rounds; round++) {
      byte[] frame = alice.frame(Frames.text("hello " + round, BOB.toString())).getBytes(StandardCharsets.UTF_8);
      Verdict.Verified verified = assertInstanceOf(Verdict.Verified.class, verifier.check(frame));
      // Two dispatchers, two commit paths: nothing in this process ties the copies together.
      List<Dispatcher> paths = List.of(path(config, shared),
          path(config, new Commits(this::storage, mailboxes::publish, Clock.systemUTC(), workers, ServerMetrics.off())));
      CyclicBarrier together = new CyclicBarrier(2);
      List<Future<Reply>> answers = new ArrayList<>();
      for (Dispatcher path : paths) {
        answers.add(workers.submit(() -> {
          together.await(10, TimeUnit.SECONDS);
          return path.dispatch(verified, session(), System.currentTimeMillis()).reply().toCompletableFuture()
              .get(30, TimeUnit.SECONDS);
        }));
      }
      int firsts = 0;
      int duplicates = 0;
      for (Future<Reply> answer : answers) {
        Reply reply = answer.get(30, TimeUnit.SECONDS);
        assertTrue(reply.isAck(), "both copies are acknowledged: " + reply);
        if (reply.fields().get("duplicate") == JsonBoolean.TRUE) {
          duplicates++;
        } else {
          firsts++;
        }
      }
      assertEquals(1, firsts, "round " + round + ": one copy accepted");
      assertEquals(1, duplicates, "round " + round + ": the other answered \"duplicate\":true");
      assertEquals(round + 1, storage().lastCursor(BOB), "round " + round + ": stored once");
    }
    assertEquals(rounds, storage().readMailbox(BOB, 0, 100).size());
  }

  private Storage storage() {
    return host.storage();
  }

  private void commit(StorageChange change) throws Exception {
    storage().commit(change).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  private static Ed25519Key key(TestIdentity identity) {
    return Ed25519Key.fromBase64(identity.publicKey());
  }

  private static ConnectionSession session() {
    EmbeddedChannel channel = new EmbeddedChannel();
    return new ConnectionSession(channel, InetAddress.getLoopbackAddress(), new SecureRandom(),
        new OutputMeter(channel, MemoryBudget.output(16 << 20, 64 << 20), Duration.ofSeconds(5), () -> {}));
  }
}
