package org.esmp.client.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.esmp.client.Delivery;
import org.esmp.client.DeliveryListener;
import org.esmp.client.EsmpClient;
import org.esmp.client.Identity;
import org.esmp.client.InvalidMessageException;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code esmp listen [--count N] [--timeout SECONDS]}: auth, sync from the saved cursor, and one
 * line per delivery ({@link Describe#delivery}, or the {@code deliver} frame with {@code --json}),
 * saving the cursor as it goes; reconnects if the connection drops. Exits 1 on a refused delivery,
 * a connection lost for good, or a timeout before {@code --count}.
 */
@Command(name = "listen", description = {
    "Print what arrives in the mailbox, from the saved cursor on, saving the cursor as it goes.",
    "Runs until --count messages arrived or --timeout passed (or Ctrl-C)."})
final class ListenCommand extends ClientCommand {
  @ParentCommand EsmpCli root;
  @Mixin JsonOption json;
  @Option(names = "--count", paramLabel = "N", description = "exit after N messages")
  Integer count;
  @Option(names = "--timeout", paramLabel = "SECONDS", description = "exit after this long (an error if --count was not reached)")
  Long timeout;

  @Override
  EsmpCli root() {
    return root;
  }

  @Override
  public Integer call() throws Exception {
    if (count != null && count < 1 || timeout != null && timeout < 0) {
      throw new CommandLine.ParameterException(spec.commandLine(), "--count and --timeout must be positive");
    }
    Identity me = root.loadIdentity();
    CountDownLatch done = new CountDownLatch(1);
    AtomicInteger seen = new AtomicInteger();
    AtomicBoolean refused = new AtomicBoolean(); // or lost for good
    try (EsmpClient client = root.connect(me, true)) {
      client.auth();
      client.sync(new DeliveryListener() {
        @Override
        public void onDelivery(Delivery d) {
          if (done.getCount() == 0) {
            throw new IllegalStateException("finished"); // not handled: the cursor stays
          }
          if (json.json) {
            printJson(d.frame());
          } else {
            out().println(Describe.delivery(d));
            out().flush();
          }
          if (count != null && seen.incrementAndGet() >= count) {
            done.countDown();
          }
        }

        @Override
        public void onRefused(InvalidMessageException e) {
          if (done.getCount() == 0) {
            throw new IllegalStateException("finished");
          }
          err().println("esmp: " + e.getMessage());
          err().flush();
          refused.set(true);
          done.countDown();
        }

        @Override
        public void onClosed(Throwable cause) {
          if (done.getCount() != 0) { // not the close that follows --count
            err().println("esmp: connection closed"
                + (cause != null && cause.getMessage() != null ? ": " + cause.getMessage() : ""));
            err().flush();
            refused.set(true);
            done.countDown();
          }
        }
      });
      boolean finished = timeout == null ? await(done) : done.await(timeout, TimeUnit.SECONDS);
      done.countDown(); // over: the close that follows (after --timeout too) is ours, not an error
      if (refused.get()) {
        return 1;
      }
      if (!finished && count != null) {
        err().println("esmp: timed out after " + timeout + " s with " + seen.get() + " of "
            + count + " messages");
        return 1;
      }
    }
    return 0;
  }

  private static boolean await(CountDownLatch done) throws InterruptedException {
    done.await();
    return true;
  }
}
