package org.esmp.plugin.storage.mapdb;

/**
 * A commit's writes do not fit in one journal record: nothing of it was written, and the storage
 * goes on. The committer then commits the batch's changes in smaller batches, down to the single
 * change that is too large alone, which alone is refused.
 */
final class RecordTooLargeException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  RecordTooLargeException(String message) {
    super(message);
  }
}
