package org.esmp.plugin.storage.mapdb;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import org.esmp.api.spi.StorageChange;

/**
 * A store opened on a file of a test's directory, with its committed view, its failure and the
 * transaction the committer's parts share: what {@link GroupCommitter} builds them on, without its
 * thread. The test's thread plays the commit thread.
 */
final class OpenStore implements AutoCloseable {

  static final String FILE_NAME = "storage.db";

  final StorageFailure failure = new StorageFailure();
  final Records records = new Records(new JacksonJsonCodec());
  final Store store;
  final CommittedView view;
  final OpenTransaction transaction;

  OpenStore(Path directory) {
    this(directory, JournalOptions.DEFAULT);
  }

  OpenStore(Path directory, JournalOptions options) {
    store = Store.open(directory.resolve(FILE_NAME), failure, options);
    view = CommittedView.load(store, store.verify(records));
    transaction = new OpenTransaction(store, view, failure);
  }

  /** A batch writer over this store, as the committer has one; the test's thread commits with it. */
  BatchWriter writer() {
    return new BatchWriter(store, view, records, transaction, failure);
  }

  /** {@code change} as the committer queues it, with a future of its own. */
  ChangeTask task(StorageChange change) {
    return ChangeTask.prepare(change, records, new CompletableFuture<>());
  }

  /** {@code changes} as one batch. */
  List<ChangeTask> batch(StorageChange... changes) {
    return Arrays.stream(changes).map(this::task).toList();
  }

  @Override
  public void close() {
    store.close();
  }
}
