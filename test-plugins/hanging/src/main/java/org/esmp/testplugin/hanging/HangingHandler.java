package org.esmp.testplugin.hanging;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.locks.LockSupport;
import org.esmp.api.MessageHandler;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.pf4j.Extension;

/**
 * {@code hang.forever} never returns (deaf to interrupts: its thread is lost for good);
 * {@code hang.never} returns a stage that never completes; {@code hang.ok} answers at once.
 */
@Extension
public class HangingHandler implements MessageHandler {

  @Override
  public Set<String> types() {
    return Set.of("hang.forever", "hang.never", "hang.ok");
  }

  @Override
  public CompletionStage<Reply> handle(Request request) {
    return switch (request.message().type()) {
      case "hang.forever" -> {
        while (true) {
          LockSupport.park(this);
        }
      }
      case "hang.never" -> new CompletableFuture<>();
      default -> CompletableFuture.completedFuture(Reply.ack());
    };
  }
}
