package org.esmp.testplugin.echo;

import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.MessageHandler;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonObject;
import org.esmp.api.spi.Storage;
import org.pf4j.Extension;
import org.pf4j.ExtensionPoint;

/**
 * The session type {@code probe}: tries, through the API, to reach what belongs to the server or to
 * other plugins, and answers {@code {"type":"probe","storages":N,"foreign_read":R,"foreign_write":W,
 * "own":O,"settings":{...}}}: how many storages {@link ServerContext#extensions} handed out, what
 * reading and writing another plugin's space did ({@code "refused"} or {@code "allowed"}), whether a
 * value of its own space read back after a commit ({@code "kept"}), and the plugin's settings.
 */
@Extension
public class ProbeHandler implements MessageHandler {

  private final ServerContext context;

  public ProbeHandler(ServerContext context) {
    this.context = context;
  }

  @Override
  public Set<String> types() {
    return Set.of("probe");
  }

  @Override
  public Set<String> sessionTypes() {
    return Set.of("probe");
  }

  @Override
  public CompletionStage<Reply> handle(Request request) {
    long storages = context.extensions(Storage.class).size()
        + context.extensions(ExtensionPoint.class).stream().filter(e -> e instanceof Storage).count();
    String read;
    try {
      context.store().get("group-threads.groups", "g");
      read = "allowed";
    } catch (IllegalArgumentException e) {
      read = "refused";
    }
    String foreignRead = read;
    CompletionStage<String> foreignWrite = context.store()
        .commit(Writes.builder().put("group-threads.groups", "g", new byte[] {'{', '}'}).build())
        .handle((cursors, failure) -> failure == null ? "allowed" : "refused");
    CompletionStage<String> own = context.store()
        .commit(Writes.builder().put("test-echo.probe", "k", new byte[] {'1'}).build())
        .thenApply(cursors -> context.store().get("test-echo.probe", "k").isPresent() ? "kept" : "lost");
    return foreignWrite.thenCombine(own, (write, kept) -> Reply.result("probe", JsonObject.builder()
        .put("storages", storages)
        .put("foreign_read", foreignRead)
        .put("foreign_write", write)
        .put("own", kept)
        .put("settings", settings())
        .build()));
  }

  private JsonObject settings() {
    JsonObject.Builder settings = JsonObject.builder();
    context.settings().forEach(settings::put);
    return settings.build();
  }
}
