package org.esmp.plugin.storage.mapdb;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import org.esmp.api.StorageFailedException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Whether the storage has failed for good, shared by the journal, the checkpoint thread and the
 * committer. The first failure wins and is kept; later ones are only added to it as suppressed.
 *
 * <p>It is not logged at ERROR here: the server logs the one line (see
 * {@link org.esmp.api.spi.Storage#failure()}); the stack trace goes to DEBUG. Thread-safe.
 */
final class StorageFailure {

  private static final Logger log = LoggerFactory.getLogger(StorageFailure.class);

  private final CompletableFuture<StorageFailedException> failed = new CompletableFuture<>();

  /**
   * Fails the storage for good, unless it failed already.
   *
   * @return the exception every commit is refused with from now on (the first failure's)
   */
  StorageFailedException fail(String reason, Throwable cause) {
    StorageFailedException failure = new StorageFailedException("storage-mapdb: " + reason, cause);
    if (failed.complete(failure)) {
      log.debug("storage-mapdb failed for good", failure);
      return failure;
    }
    StorageFailedException first = failed.getNow(null);
    if (cause != null && cause != first && cause != first.getCause()) {
      first.addSuppressed(cause);
    }
    return first;
  }

  /** The failure, or null while the storage works. */
  StorageFailedException failed() {
    return failed.getNow(null);
  }

  /** Throws the failure, if the storage failed. */
  void check() {
    StorageFailedException failure = failed();
    if (failure != null) {
      throw failure;
    }
  }

  /** Completes with the failure; callers cannot complete it themselves. */
  CompletionStage<StorageFailedException> stage() {
    return failed.minimalCompletionStage();
  }
}
