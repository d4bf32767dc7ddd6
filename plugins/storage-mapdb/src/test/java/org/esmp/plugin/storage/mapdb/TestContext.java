package org.esmp.plugin.storage.mapdb;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.ServerContext;
import org.esmp.api.Storage;
import org.pf4j.ExtensionPoint;

/** A server context with a data directory and a JSON codec; nothing else is needed by storage. */
record TestContext(Path dataDirectory) implements ServerContext {

  private static final JsonCodec JSON = new JacksonJsonCodec();

  @Override
  public String domain() {
    return "example.com";
  }

  @Override
  public Set<String> domains() {
    return Set.of(domain());
  }

  @Override
  public Optional<Storage> storage() {
    return Optional.empty();
  }

  @Override
  public Mailboxes mailboxes() {
    throw new UnsupportedOperationException();
  }

  @Override
  public <T extends ExtensionPoint> List<T> extensions(Class<T> type) {
    return List.of();
  }

  @Override
  public JsonCodec json() {
    return JSON;
  }

  @Override
  public int maxRecipients() {
    return 100;
  }
}
