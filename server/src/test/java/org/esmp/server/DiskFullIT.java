package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertEachAckedOnce;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.mailboxIds;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.server.testing.ChildServer;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.condition.DisabledIfSystemProperty;
import org.junit.jupiter.api.io.TempDir;

/**
 * The disk fills up under a running server: its data directory is on a small tmpfs, and a filler
 * file leaves it little room. A client streams messages until the server stops acking; the server
 * must exit with {@link Main#STORAGE_FAILED} after exactly one ERROR line. With room made, the
 * server restarts on the same data directory and serves every acked message exactly once.
 *
 * <p>The tmpfs is mounted directly when the test runs as root (as on CI), else in a user and mount
 * namespace of its own ({@code unshare -Urm}, held open by a sleeping process, the servers and
 * the filler entering it with {@code nsenter}): the mount must outlive the first server. Where
 * neither is permitted the test is skipped.
 */
@DisabledIfSystemProperty(named = "esmp.it.storage", matches = "postgres", disabledReason = "about storage-mapdb's "
    + "journal on a full disk: on storage-postgres the data directory holds no messages, the database's disk does")
class DiskFullIT {

  private static final int MOUNT_MIB = 24;
  /** What the filler leaves free once the server has started. */
  private static final int FREE_KIB = 1024;

  @TempDir Path dir;

  @Test
  void aFullDiskStopsTheServerWithOneLineAndARestartServesEveryAckedMessageOnce() throws Exception {
    Path mount = Files.createDirectories(dir.resolve("disk"));
    try (SmallDisk disk = SmallDisk.mount(mount, MOUNT_MIB)) {
      Path data = mount.resolve("data");
      Path filler = mount.resolve("filler");
      TestIdentity alice = TestIdentity.random();
      TestIdentity bob = TestIdentity.random();
      Set<String> acked = ConcurrentHashMap.newKeySet();
      AtomicInteger refused = new AtomicInteger();

      Path firstLog = dir.resolve("server-1.log");
      ChildServer server = startChild(disk, data, firstLog);
      String fill = "dd if=/dev/zero of=" + filler + " bs=64k 2>/dev/null; truncate -s -" + FREE_KIB + "K " + filler;
      int sent = 0;
      try {
        int port = server.port();
        try (TestClient a = new TestClient(port); TestClient b = new TestClient(port)) {
          authenticate(a, alice, "alice#example.com");
          authenticate(b, bob, "bob#example.com");
          assertEquals(0, disk.run("sh", "-c", fill), "filling the disk");
          AtomicInteger answered = new AtomicInteger();
          Thread reader = new Thread(() -> {
            try {
              while (true) {
                JsonNode answer = a.read();
                answered.incrementAndGet();
                if (answer.path("type").asText().equals("ack")) {
                  acked.add(answer.path("re").asText());
                } else {
                  refused.incrementAndGet();
                }
              }
            } catch (IOException closed) {
              // the server exited
            }
          });
          reader.start();
          long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
          try {
            while (server.process().isAlive() && System.nanoTime() < deadline) {
              if (sent - answered.get() > 500) {
                Thread.sleep(1);
                continue;
              }
              StringBuilder batch = new StringBuilder();
              for (int i = 0; i < 20; i++) {
                batch.append(alice.frame(text("filling the disk, message " + sent++ + " " + "x".repeat(600),
                    "bob#example.com"))).append('\n');
              }
              a.sendRaw(batch.toString().getBytes(StandardCharsets.UTF_8));
            }
          } catch (IOException closed) {
            // the server exited while we were sending
          }
          assertTrue(server.process().waitFor(60, TimeUnit.SECONDS), "the server exits once the disk is full");
          reader.join(10_000);
        }
      } finally {
        server.kill();
      }
      String log = Files.readString(firstLog);
      assertEquals(Main.STORAGE_FAILED, server.process().exitValue(), "exit code; the log:\n" + log);
      List<String> errors = log.lines().filter(line -> line.contains(" ERROR ")).toList();
      assertEquals(1, errors.size(), "one ERROR line; the log:\n" + log);
      assertTrue(errors.get(0).contains("storage failed"), errors.get(0));
      assertTrue(acked.size() > 0, "messages were acked before the disk filled up");
      System.out.println("DiskFullIT: " + sent + " sent, " + acked.size() + " acked, " + refused.get()
          + " refused before the exit; the line: " + errors.get(0) + "; WARN lines: "
          + log.lines().filter(line -> line.contains(" WARN ")).toList());

      assertEquals(0, disk.run("rm", filler.toString()));
      Path secondLog = dir.resolve("server-2.log");
      server = startChild(disk, data, secondLog);
      try (TestClient b = new TestClient(server.port())) {
        authenticate(b, bob, "bob#example.com");
        assertEachAckedOnce(mailboxIds(b, bob), acked);
        assertAck(b.call(bob.frame(text("room again", "alice#example.com"))));
      } finally {
        server.stop();
      }
    }
  }

  /**
   * A tmpfs of a given size at a directory: mounted directly when permitted, else in a user and
   * mount namespace that a sleeping process holds open. Commands that must see it run through
   * {@link #command}.
   */
  private static final class SmallDisk implements AutoCloseable {
    private final Path mount;
    private final Process holder;
    private final List<String> prefix;

    private SmallDisk(Path mount, Process holder, List<String> prefix) {
      this.mount = mount;
      this.holder = holder;
      this.prefix = prefix;
    }

    /** Mounts it, or skips the test (a JUnit assumption) where that is not permitted. */
    static SmallDisk mount(Path mount, int mib) throws Exception {
      String options = "size=" + mib + "m";
      // -Desmp.it.userns=true tries the namespace first, as a user who is not root would.
      if (!Boolean.getBoolean("esmp.it.userns")
          && exec(List.of("mount", "-t", "tmpfs", "-o", options, "tmpfs", mount.toString())) == 0) {
        return new SmallDisk(mount, null, List.of());
      }
      Process holder = null;
      try {
        holder = new ProcessBuilder("unshare", "-Urm", "sh", "-c",
            "mount -t tmpfs -o " + options + " tmpfs '" + mount + "' && echo mounted && exec sleep 100000")
            .redirectErrorStream(true).start();
        String first = new java.io.BufferedReader(new java.io.InputStreamReader(holder.getInputStream(),
            StandardCharsets.UTF_8)).readLine();
        if ("mounted".equals(first)) {
          return new SmallDisk(mount, holder, List.of("nsenter", "-t", Long.toString(holder.pid()), "-U", "-m",
              "--preserve-credentials"));
        }
        System.out.println("DiskFullIT: unshare -Urm: " + first);
      } catch (IOException noUnshare) {
        System.out.println("DiskFullIT: " + noUnshare);
      }
      if (holder != null) {
        holder.destroyForcibly();
      }
      Assumptions.abort("mounting a tmpfs is not permitted here, neither directly nor in a user namespace");
      return null;
    }

    /** {@code command}, to run where the tmpfs is mounted. */
    List<String> command(String... command) {
      List<String> all = new ArrayList<>(prefix);
      all.addAll(List.of(command));
      return all;
    }

    /** Runs {@code command} where the tmpfs is mounted; returns its exit code. */
    int run(String... command) throws Exception {
      return exec(command(command));
    }

    private static int exec(List<String> command) throws Exception {
      Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
      String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int code = process.waitFor();
      if (code != 0) {
        System.out.println("DiskFullIT: " + String.join(" ", command) + " exited " + code + ": " + output.strip());
      }
      return code;
    }

    @Override
    public void close() throws Exception {
      if (holder == null) {
        exec(List.of("umount", "-l", mount.toString()));
      } else {
        holder.destroyForcibly(); // the namespace, and its mount, end with it
        holder.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }

  /** Starts the real server in a child JVM where the tmpfs is mounted, its output in {@code log}. */
  private static ChildServer startChild(SmallDisk disk, Path data, Path log) throws IOException {
    return ChildServer.builder(data, log).commandPrefix(disk.command()).start();
  }
}
