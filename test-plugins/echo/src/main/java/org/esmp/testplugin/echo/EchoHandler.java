package org.esmp.testplugin.echo;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.MessageHandler;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.json.JsonObject;
import org.pf4j.Extension;

/** Answers {@code echo} with {@code {"type":"echo","from":SENDER,"body":BODY}}. */
@Extension
public class EchoHandler implements MessageHandler {

  @Override
  public Set<String> types() {
    return Set.of("echo");
  }

  @Override
  public CompletionStage<Reply> handle(Request request) {
    JsonObject fields =
        JsonObject.builder()
            .put("from", request.sender().map(Object::toString).orElse(""))
            .put("body", request.message().body())
            .build();
    return CompletableFuture.completedFuture(Reply.result("echo", fields));
  }
}
