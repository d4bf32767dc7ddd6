package org.esmp.plugin.storage.mapdb;

import java.util.Objects;
import java.util.function.Consumer;

/**
 * What the storage's tests change of the journal; production uses {@link #DEFAULT}.
 *
 * @param maxRecordBody the largest record body a commit may write (and replay accepts)
 * @param files how the journal's channels are opened
 * @param afterStep called with a name after each step that changes the files (created, appended,
 *     checkpointed, deleted), so that a test can copy them as a kill at that moment would leave them
 */
record JournalOptions(long maxRecordBody, FileAccess files, Consumer<String> afterStep) {

  /** 1 GiB per record. */
  static final long MAX_RECORD_BODY = 1L << 30;

  static final JournalOptions DEFAULT = new JournalOptions(MAX_RECORD_BODY, FileAccess.DEFAULT, step -> {});

  JournalOptions {
    if (maxRecordBody < 64 || maxRecordBody > MAX_RECORD_BODY) {
      throw new IllegalArgumentException("maxRecordBody out of range: " + maxRecordBody);
    }
    Objects.requireNonNull(files, "files");
    Objects.requireNonNull(afterStep, "afterStep");
  }

  JournalOptions withMaxRecordBody(long bytes) {
    return new JournalOptions(bytes, files, afterStep);
  }

  JournalOptions withFiles(FileAccess files) {
    return new JournalOptions(maxRecordBody, files, afterStep);
  }

  JournalOptions withAfterStep(Consumer<String> afterStep) {
    return new JournalOptions(maxRecordBody, files, afterStep);
  }
}
