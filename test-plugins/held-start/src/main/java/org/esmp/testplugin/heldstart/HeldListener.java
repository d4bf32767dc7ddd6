package org.esmp.testplugin.heldstart;

import java.nio.file.Files;
import java.nio.file.Path;
import org.esmp.api.MessageListener;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.pf4j.Extension;

/**
 * A listener that does nothing, and whose creation waits while the file {@value #HOLD} exists in
 * the server's data directory (or until its thread is interrupted, as the plugin call timeout does):
 * a test holds the server's start with it, and lets it go on by deleting the file. Plugins load in
 * the order of their jars' names, so a test names this jar to load before the storage.
 */
@Extension
public class HeldListener implements MessageListener {

  /** The file that holds the start while it exists. */
  public static final String HOLD = "held-start";

  public HeldListener(ServerContext context) {
    Path hold = context.dataDirectory().resolve(HOLD);
    while (Files.exists(hold)) {
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  @Override
  public void onMessage(Request request, Reply reply) {
    // nothing: this plugin only holds the start
  }
}
