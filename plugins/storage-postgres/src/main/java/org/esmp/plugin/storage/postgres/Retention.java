package org.esmp.plugin.storage.postgres;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The trim: deletes the mailbox entries received before a time (releasing the messages kept once
 * that their last entry referred to), then the records of messages accepted before it, in chunks of
 * {@link #CHUNK} rows, each its own transaction, so that no commit waits long behind it. Rows that
 * another transaction holds (another server's trim) are skipped. Mailbox counters stay, so cursors
 * are never reused; kept entries stay. Last, the rows of ephemeral messages older than a minute
 * ({@code live_messages}, which their senders delete too, but not once stopped).
 */
final class Retention {

  static final int CHUNK = 5_000;

  private final Committer committer;
  private final int chunk;

  Retention(Committer committer) {
    this(committer, CHUNK);
  }

  /** With chunks of {@code chunk} rows: for tests. */
  Retention(Committer committer, int chunk) {
    this.committer = committer;
    this.chunk = chunk;
  }

  /** Runs the whole trim on this (plugin) thread; returns how many mailbox entries it deleted. */
  long trim(long receivedBefore) throws SQLException {
    long deleted = 0;
    int done;
    do {
      done = committer.inTransaction(c -> trimEntries(c, receivedBefore), () -> {});
      deleted += done;
    } while (done == chunk);
    do {
      done = committer.inTransaction(c -> trimAccepted(c, receivedBefore), () -> {});
    } while (done == chunk);
    committer.inTransaction(Retention::trimLive, () -> {});
    return deleted;
  }

  private int trimEntries(Connection connection, long receivedBefore) throws SQLException {
    List<byte[]> released = new ArrayList<>();
    int deleted = 0;
    try (PreparedStatement delete = connection.prepareStatement(
        "WITH doomed AS (SELECT address, cursor FROM mailbox_entries WHERE received_at < ? LIMIT ? FOR UPDATE SKIP LOCKED)"
            + " DELETE FROM mailbox_entries m USING doomed d WHERE m.address = d.address AND m.cursor = d.cursor"
            + " RETURNING m.message_id")) {
      delete.setLong(1, receivedBefore);
      delete.setInt(2, chunk);
      try (ResultSet rows = delete.executeQuery()) {
        while (rows.next()) {
          deleted++;
          byte[] id = rows.getBytes(1);
          if (id != null) {
            released.add(id);
          }
        }
      }
    }
    ChangeTransaction.release(connection, released);
    return deleted;
  }

  /** The rows of ephemeral messages past their minute, left by a server that stopped sending. */
  private static int trimLive(Connection connection) throws SQLException {
    try (PreparedStatement delete = connection.prepareStatement(Notifier.trimLiveRowsSql())) {
      return delete.executeUpdate();
    }
  }

  private int trimAccepted(Connection connection, long acceptedBefore) throws SQLException {
    try (PreparedStatement delete = connection.prepareStatement(
        "DELETE FROM accepted WHERE id IN"
            + " (SELECT id FROM accepted WHERE accepted_at < ? LIMIT ? FOR UPDATE SKIP LOCKED)")) {
      delete.setLong(1, acceptedBefore);
      delete.setInt(2, chunk);
      return delete.executeUpdate();
    }
  }
}
