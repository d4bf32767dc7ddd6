package org.esmp.server.store;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.Store;
import org.esmp.api.Stored;
import org.esmp.api.Writes;
import org.esmp.api.spi.Storage;

/**
 * One plugin's {@link Store}: its own spaces of the storage, and commits through {@link Commits}.
 * A space not named after the plugin is refused before anything reaches the storage.
 */
public final class PluginStore implements Store {

  private final String pluginId;
  private final Supplier<Storage> storage;
  private final Commits commits;

  /** @param storage the storage in use, looked up on each call */
  public PluginStore(String pluginId, Supplier<Storage> storage, Commits commits) {
    this.pluginId = pluginId;
    this.storage = storage;
    this.commits = commits;
  }

  @Override
  public Optional<byte[]> get(String space, String key) {
    checkSpace(space);
    return storage.get().get(space, key);
  }

  @Override
  public List<Stored> scan(String space, String fromKey, String toKey, int limit) {
    checkSpace(space);
    return storage.get().scan(space, fromKey, toKey, limit);
  }

  @Override
  public Optional<MailboxEntry> entry(String space, String key) {
    checkSpace(space);
    Storage store = keeping();
    return store.entry(space, key);
  }

  @Override
  public List<MailboxEntry> entries(String space, String fromKey, String toKey, int limit) {
    checkSpace(space);
    Storage store = keeping();
    return store.entries(space, fromKey, toKey, limit);
  }

  /** The storage, if it keeps entries; else the refusal a plugin can log and act on. */
  private Storage keeping() {
    Storage store = storage.get();
    if (!store.keepsEntries()) {
      throw new UnsupportedOperationException("the storage in use (" + store.getClass().getName()
          + ") does not keep entries (Writes.Keep, plugin API 1.1): plugin " + pluginId + " needs one that does");
    }
    return store;
  }

  @Override
  public CompletionStage<List<Long>> commit(Request request, Writes writes, Reply answer) {
    try {
      checkSpaces(writes);
      return commits.commit(request, writes, answer);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  @Override
  public CompletionStage<List<Long>> commit(Writes writes) {
    try {
      checkSpaces(writes);
      return commits.commit(writes);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  private void checkSpaces(Writes writes) {
    writes.expectations().forEach(e -> checkSpace(e.space()));
    writes.deletes().forEach(d -> checkSpace(d.space()));
    writes.puts().forEach(p -> checkSpace(p.space()));
    writes.keeps().forEach(k -> checkSpace(k.space()));
    if (!writes.keeps().isEmpty()) {
      keeping(); // never hand kept entries to a storage that would drop them
    }
  }

  /** A plugin's spaces are its id, or its id, '.', and more. */
  private void checkSpace(String space) {
    if (!space.equals(pluginId) && !(space.startsWith(pluginId) && space.length() > pluginId.length() + 1
        && space.charAt(pluginId.length()) == '.')) {
      throw new IllegalArgumentException("plugin " + pluginId + " may use the spaces '" + pluginId + "' and '"
          + pluginId + ".*' only, not '" + space + "'");
    }
  }
}
