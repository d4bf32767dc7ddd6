package org.esmp.testplugin.throwing;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.MessageHandler;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.json.JsonObject;
import org.pf4j.Extension;

/**
 * A handler failing in each way it can without waiting: {@code boom.throw} throws,
 * {@code boom.failed} returns a failed stage, {@code boom.null} returns null, {@code boom.null-reply}
 * completes with null, and {@code boom.bad-reply} answers an error without a code.
 */
@Extension
public class ThrowingHandler implements MessageHandler {

  @Override
  public Set<String> types() {
    return Set.of("boom.throw", "boom.failed", "boom.null", "boom.null-reply", "boom.bad-reply");
  }

  @Override
  public CompletionStage<Reply> handle(Request request) {
    return switch (request.message().type()) {
      case "boom.throw" -> throw new IllegalStateException("test-throwing: handle throws");
      case "boom.failed" -> CompletableFuture.failedFuture(new IllegalStateException("test-throwing: failed stage"));
      case "boom.null" -> null;
      case "boom.null-reply" -> CompletableFuture.completedFuture(null);
      default -> CompletableFuture.completedFuture(new Reply("error", JsonObject.empty()));
    };
  }
}
