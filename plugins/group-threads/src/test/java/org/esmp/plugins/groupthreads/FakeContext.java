package org.esmp.plugins.groupthreads;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.esmp.api.JsonCodec;
import org.esmp.api.Mailboxes;
import org.esmp.api.ServerContext;
import org.esmp.api.Storage;
import org.pf4j.ExtensionPoint;

/** A {@link ServerContext} serving {@code example.com} over a {@link FakeStorage}. */
final class FakeContext implements ServerContext {

  final FakeStorage storage = new FakeStorage();
  final FakeMailboxes mailboxes = new FakeMailboxes(storage);
  private final JsonCodec json = new TestJson();

  @Override
  public String domain() {
    return "example.com";
  }

  @Override
  public Set<String> domains() {
    return Set.of("example.com");
  }

  @Override
  public Path dataDirectory() {
    throw new UnsupportedOperationException("not needed by the plugin");
  }

  @Override
  public Optional<Storage> storage() {
    return Optional.of(storage);
  }

  @Override
  public Mailboxes mailboxes() {
    return mailboxes;
  }

  @Override
  public <T extends ExtensionPoint> List<T> extensions(Class<T> type) {
    return List.of();
  }

  @Override
  public JsonCodec json() {
    return json;
  }

  @Override
  public int maxRecipients() {
    return 100;
  }
}
