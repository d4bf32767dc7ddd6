package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.ack;
import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.key;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.StorageFixtures;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Kills a process that is committing (SIGKILL, at a random moment) and checks that every change it
 * saw acknowledged is stored exactly once, and that the store opens cleanly. Each round kills the
 * process again over what earlier rounds left.
 */
class CrashTest {

  /** Kills per run; more with {@code -Dcrash.rounds=N} (e.g. to soak the journal). */
  private static final int ROUNDS = Integer.getInteger("crash.rounds", 6);

  @TempDir Path data;
  @TempDir Path logs;

  /** One acknowledged change: its name, the cursor per recipient, an address it registered. */
  private record Ack(String name, Map<Address, Long> cursors, Address registered) {}

  @Test
  void everyAcknowledgedChangeSurvivesSigkill() throws Exception {
    Random random = new Random();
    List<Ack> acked = new ArrayList<>();
    for (int round = 0; round < ROUNDS; round++) {
      int killAfter = 20 + random.nextInt(1500);
      // Every other round checkpoints often (every 64-512 KiB of journal), so kills land in
      // checkpoints too.
      long checkpointBytes = round % 2 == 0 ? (64L << 10) << random.nextInt(4) : 64L << 20;
      acked.addAll(runAndKill("k" + round, killAfter, random.nextInt(30), checkpointBytes));
      verify(acked);
    }
  }

  /**
   * A first start killed (SIGKILL) while it creates the store leaves a store that opens and takes
   * commits. The kill lands at a random moment between the child saying it opens the store and the
   * time a whole creation took in a first run, so that kills fall at every step of the creation.
   */
  @Test
  void aFirstStartKilledWhileCreatingTheStoreLeavesOneThatOpens(@TempDir Path root) throws Exception {
    long creationNanos = 0;
    int rounds = Math.max(8, ROUNDS);
    int killedBeforeReady = 0;
    List<String> states = new ArrayList<>();
    Random random = new Random();
    for (int round = 0; round <= rounds; round++) {
      Path fresh = root.resolve("first-" + round);
      Process child = child(fresh, "f" + round, 64L << 20);
      try (BufferedReader lines =
          new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
        String line;
        while ((line = lines.readLine()) != null && !line.equals("opening")) {
          // the JVM starting
        }
        long opening = System.nanoTime();
        if (round == 0) {
          // Measure a whole creation, unkilled, to aim the kills of the next rounds.
          while ((line = lines.readLine()) != null && !line.equals("ready")) {
            // creating
          }
          creationNanos = System.nanoTime() - opening;
        } else {
          // Most of a first start is loading classes; the files come last: aim at the last fifth (and a little past).
          long killAt = opening + (long) ((0.8 + random.nextDouble() / 4) * creationNanos);
          while (System.nanoTime() < killAt) {
            Thread.onSpinWait();
          }
          child.toHandle().destroyForcibly();
          child.waitFor(30, TimeUnit.SECONDS);
          while ((line = lines.readLine()) != null && !line.equals("ready")) {
            // what the child printed before the kill
          }
          if (line == null) {
            killedBeforeReady++;
            states.add(leftBehind(fresh));
          }
        }
      } finally {
        child.destroyForcibly();
        assertTrue(child.waitFor(30, TimeUnit.SECONDS));
      }
      if (round > 0) {
        MapDbStorage storage = new MapDbStorage(StorageContexts.of(fresh));
        try {
          Address to = CrashChild.RECIPIENTS.get(0);
          long last = storage.lastCursor(to); // 0, unless the kill came after "ready" and commits
          assertEquals(List.of(last + 1), storage.commit(StorageChange.builder()
              .append(to, entry("after-" + round, address("s"), 1)).build())
              .toCompletableFuture().get(30, TimeUnit.SECONDS), "a store killed in its first start takes commits");
        } finally {
          storage.close();
        }
      }
    }
    System.out.println("CrashTest: " + rounds + " first starts killed within " + creationNanos / 1_000_000
        + " ms of opening, " + killedBeforeReady + " of them before the store was ready, leaving " + states);
    assertTrue(killedBeforeReady > 0, "some kills landed during the creation");
  }

  /** What a killed first start left in the storage directory, for the test's output. */
  private static String leftBehind(Path dir) throws java.io.IOException {
    Path storage = dir.resolve(MapDbStorage.DIRECTORY);
    if (!java.nio.file.Files.isDirectory(storage)) {
      return "nothing";
    }
    try (var files = java.nio.file.Files.list(storage)) {
      return files.map(f -> f.getFileName() + ":" + f.toFile().length()).sorted().toList().toString();
    }
  }

  private Process child(Path dir, String run, long checkpointBytes) throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    return new ProcessBuilder(java, "-Xmx256m", "-D" + Checkpointer.CHECKPOINT_PROPERTY + "=" + checkpointBytes,
            "-cp", System.getProperty("java.class.path"), CrashChild.class.getName(), dir.toString(), run)
        .redirectError(logs.resolve(run + ".err").toFile())
        .start();
  }

  private List<Ack> runAndKill(String run, int killAfter, int extraMillis, long checkpointBytes) throws Exception {
    Process child = child(data, run, checkpointBytes);
    List<Ack> acks = new ArrayList<>();
    try (BufferedReader lines =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      boolean killed = false;
      while ((line = lines.readLine()) != null) {
        if (line.startsWith("ack ") && line.endsWith(" .")) {
          acks.add(parse(line));
        }
        if (!killed && acks.size() >= killAfter) {
          Thread.sleep(extraMillis);
          // SIGKILL through the handle: Process.destroyForcibly() would also close our end of the
          // pipe, losing acknowledgements printed just before the kill.
          child.toHandle().destroyForcibly();
          killed = true;
        }
      }
      // Lines still in the pipe after the kill were acknowledged too: read up to end of file.
      assertTrue(killed, "child ended before " + killAfter + " acks; see " + logs.resolve(run + ".err"));
    } finally {
      child.destroyForcibly();
      assertTrue(child.waitFor(30, TimeUnit.SECONDS));
    }
    return acks;
  }

  private static Ack parse(String line) {
    String[] words = line.split(" ");
    Map<Address, Long> cursors = new HashMap<>();
    Address registered = null;
    for (int i = 2; i < words.length - 1; i++) {
      if (words[i].equals("key")) {
        registered = Address.parse(words[++i]);
      } else {
        String[] pair = words[i].split("=");
        cursors.put(Address.parse(pair[0]), Long.parseLong(pair[1]));
      }
    }
    return new Ack(words[1], cursors, registered);
  }

  private void verify(List<Ack> acked) {
    MapDbStorage storage = new MapDbStorage(StorageContexts.of(data));
    try {
      Map<Address, Map<MessageId, MailboxEntry>> byAddress = new HashMap<>();
      for (Address address : CrashChild.RECIPIENTS) {
        List<MailboxEntry> all = storage.readMailbox(address, 0, Integer.MAX_VALUE);
        Map<MessageId, MailboxEntry> byId = new HashMap<>();
        for (int i = 0; i < all.size(); i++) {
          MailboxEntry entry = all.get(i);
          assertEquals(i + 1, entry.cursor(), "cursors of " + address + " are contiguous");
          assertEquals(null, byId.put(entry.id(), entry), "each message once in " + address);
        }
        assertEquals(all.size(), storage.lastCursor(address));
        byAddress.put(address, byId);
      }
      for (Ack ack : acked) {
        assertEquals(Optional.of(ack(ack.name())), storage.acceptedAnswer(id(ack.name())), ack.name());
        for (Map.Entry<Address, Long> c : ack.cursors().entrySet()) {
          MailboxEntry entry = byAddress.get(c.getKey()).get(id(ack.name()));
          assertTrue(entry != null, ack.name() + " in " + c.getKey());
          assertEquals((long) c.getValue(), entry.cursor(), ack.name() + " at its acknowledged cursor");
          // Whole, or through its reference to the one kept copy.
          assertEquals(StorageFixtures.message(ack.name(), 400), entry.message(), ack.name() + " readable in " + c.getKey());
        }
        if (CrashChild.kept(ack.name())) {
          Optional<MailboxEntry> kept = storage.entry(CrashChild.KEPT_SPACE, ack.name());
          assertTrue(kept.isPresent(), ack.name() + " kept");
          assertEquals(StorageFixtures.message(ack.name(), 400), kept.get().message(), ack.name() + " kept readable");
        }
        if (ack.registered() != null) {
          assertEquals(Optional.of(ack.registered()), storage.addressOf(key(ack.name())));
        }
      }
    } finally {
      storage.close();
    }
  }
}
