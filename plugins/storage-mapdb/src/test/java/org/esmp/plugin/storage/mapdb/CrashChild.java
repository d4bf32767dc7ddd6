package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.entry;
import static org.esmp.api.testkit.StorageFixtures.id;
import static org.esmp.api.testkit.StorageFixtures.key;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Semaphore;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.testkit.StorageFixtures;

/**
 * The process {@link CrashTest} kills: opens the storage in {@code args[0]} and commits changes
 * from several threads until killed, printing one line per acknowledged change, in the form
 * {@code ack NAME ADDRESS=CURSOR... [key ADDRESS] .}. The final {@code .} marks a whole line.
 */
public final class CrashChild {

  static final int SENDERS = 4;
  static final List<Address> RECIPIENTS = List.of(address("r0"), address("r1"), address("r2"));

  private CrashChild() {}

  public static void main(String[] args) throws Exception {
    Path data = Path.of(args[0]);
    String run = args[1];
    PrintStream out = System.out;
    synchronized (out) {
      out.println("opening"); // CrashTest kills some runs between this and "ready": in a first start
      out.flush();
    }
    MapDbStorage storage = new MapDbStorage(StorageContexts.of(data));
    synchronized (out) {
      out.println("ready");
      out.flush();
    }
    for (int s = 0; s < SENDERS; s++) {
      String sender = run + "-" + s;
      Thread thread = new Thread(() -> send(storage, sender, out), "sender-" + s);
      thread.start();
    }
    Thread.sleep(Long.MAX_VALUE);
  }

  /** Every this many messages of a sender is also kept under its name in {@link #KEPT_SPACE}. */
  static final int KEPT_EVERY = 5;
  static final String KEPT_SPACE = "threads";

  /** Whether the message {@code name} (sender-index) was also kept. */
  static boolean kept(String name) {
    return Long.parseLong(name.substring(name.lastIndexOf('-') + 1)) % KEPT_EVERY == 0;
  }

  private static void send(MapDbStorage storage, String sender, PrintStream out) {
    // Bounded in flight, as a server with a limited number of connections would be.
    Semaphore inFlight = new Semaphore(64);
    for (long i = 0; ; i++) {
      inFlight.acquireUninterruptibly();
      String name = sender + "-" + i;
      Address first = RECIPIENTS.get((int) (i % RECIPIENTS.size()));
      Address second = RECIPIENTS.get((int) ((i + 1) % RECIPIENTS.size()));
      MailboxEntry entry = entry(name, address("s"), System.currentTimeMillis());
      StorageChange.Builder change =
          StorageChange.builder().accept(id(name), entry.receivedAt(), StorageFixtures.ack(name)).append(first, entry);
      if (i % 3 == 0) {
        change.append(second, entry); // kept once, and two references to it
      }
      if (i % KEPT_EVERY == 0) {
        change.keep(KEPT_SPACE, name, entry); // a thread entry referring to the same copy
      }
      Address registered = address("u" + name);
      if (i % 10 == 0) {
        change.bindKey(registered, key(name));
      }
      StorageChange built = change.build();
      storage
          .commit(built)
          .whenComplete(
              (cursors, failure) -> {
                inFlight.release();
                if (failure != null) {
                  return;
                }
                StringBuilder line = new StringBuilder("ack ").append(name);
                for (int a = 0; a < cursors.size(); a++) {
                  line.append(' ').append(built.writes().appends().get(a).address()).append('=').append(cursors.get(a));
                }
                if (!built.bindKeys().isEmpty()) {
                  line.append(" key ").append(registered);
                }
                line.append(" .");
                synchronized (out) {
                  out.println(line);
                  out.flush();
                }
              });
    }
  }
}
