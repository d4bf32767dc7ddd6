package org.esmp.plugin.storage.postgres;

import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.TreeSet;
import org.esmp.api.Address;
import org.esmp.api.ConflictException;
import org.esmp.api.DuplicateException;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Writes;
import org.esmp.api.spi.StorageChange;

/**
 * One {@link StorageChange} in a PostgreSQL transaction that may carry several (group commit, see
 * {@link #applyAll}), correct with writers on several servers at once (READ COMMITTED, each
 * statement seeing what was committed before it began, and what the transaction itself wrote).
 * Made on the commit thread, which encodes the change once; it may then be applied more than
 * once, each time in a fresh transaction (a deadlock or serialization failure is retried).
 *
 * <p><b>Conditions hold at commit</b> because of the locks taken before they are read, each kind
 * in one order on every server:
 *
 * <ol>
 *   <li>advisory transaction locks ({@link Keys}), for every change of the transaction at once, in
 *       ascending order: each plugin key expected, put, kept or deleted, each address whose keys
 *       are expected, bound or unbound, each key bound or unbound. Every change that could make an
 *       expectation false holds the same lock, so the rows of expected plugin keys, read next
 *       ({@code FOR UPDATE}), change only by this transaction until it ends;
 *   <li>the accepted id, after the conditions held: {@code INSERT … ON CONFLICT DO NOTHING} waits
 *       for a transaction inserting the same id, and inserts nothing once it committed: {@link
 *       DuplicateException} with the recorded answer;
 *   <li>messages kept once, then, for the whole transaction at its end, the mailbox counters:
 *       {@code INSERT … ON CONFLICT DO UPDATE … RETURNING} in address order, held until commit, so
 *       cursors are gapless 1, 2, 3 … per address whichever server appends.
 * </ol>
 *
 * A failed condition throws {@link ConflictException} (or {@link DuplicateException} when the
 * message was accepted meanwhile) before the change wrote anything, so the other changes of the
 * transaction go on without it.
 */
final class ChangeTransaction {

  private static final HexFormat HEX = HexFormat.of();

  final StorageChange change;
  private final Entries entries;
  private final long[] locks;
  /** The message each append carries, in order. */
  private final Message[] appended;
  /** The message each keep carries, in order. */
  private final Message[] kept;
  /** Messages carried more than once, by id: kept once if the stored copy (if any) is the same. */
  private final List<Message> shared;
  /** The state each plugin key touched ends in: a value, a kept entry (its index), or deleted. */
  private final TreeMap<SpaceKey, Object> finalValues = new TreeMap<>();

  ChangeTransaction(StorageChange change, Entries entries) {
    this.change = change;
    this.entries = entries;
    Writes writes = change.writes();
    TreeSet<Long> lockSet = new TreeSet<>();
    writes.expectations().forEach(e -> lockSet.add(Keys.valueLock(e.space(), e.key())));
    writes.puts().forEach(p -> lockSet.add(Keys.valueLock(p.space(), p.key())));
    writes.keeps().forEach(k -> lockSet.add(Keys.valueLock(k.space(), k.key())));
    writes.deletes().forEach(d -> lockSet.add(Keys.valueLock(d.space(), d.key())));
    change.expectedKeys().forEach(e -> lockSet.add(Keys.addressLock(e.address())));
    for (List<StorageChange.KeyBinding> bindings : List.of(change.bindKeys(), change.unbindKeys())) {
      for (StorageChange.KeyBinding binding : bindings) {
        lockSet.add(Keys.addressLock(binding.address()));
        lockSet.add(Keys.keyLock(binding.key()));
      }
    }
    locks = lockSet.stream().mapToLong(Long::longValue).toArray();

    Map<String, List<Message>> byId = new LinkedHashMap<>();
    appended = new Message[writes.appends().size()];
    for (int i = 0; i < appended.length; i++) {
      appended[i] = message(byId, writes.appends().get(i).entry());
    }
    kept = new Message[writes.keeps().size()];
    for (int i = 0; i < kept.length; i++) {
      kept[i] = message(byId, writes.keeps().get(i).entry().withCursor(0));
    }
    shared = new ArrayList<>();
    for (List<Message> sameId : byId.values()) {
      // One message per id is kept once: a second entry of the same id with other fields (a
      // plugin's doing) is stored whole.
      sameId.stream().filter(m -> m.references > 1).findFirst().ifPresent(shared::add);
    }
    shared.sort((a, b) -> Arrays.compareUnsigned(a.id, b.id));

    writes.deletes().forEach(d -> finalValues.put(new SpaceKey(d.space(), d.key()), Deleted.INSTANCE));
    writes.puts().forEach(p -> finalValues.put(new SpaceKey(p.space(), p.key()), p.value()));
    for (int i = 0; i < kept.length; i++) {
      Writes.Keep keep = writes.keeps().get(i);
      finalValues.put(new SpaceKey(keep.space(), keep.key()), i);
    }
  }

  private Message message(Map<String, List<Message>> byId, MailboxEntry entry) {
    byte[] whole = entries.encode(entry.withCursor(0));
    List<Message> sameId = byId.computeIfAbsent(entry.id().hex(), id -> new ArrayList<>(1));
    for (Message m : sameId) {
      if (Arrays.equals(m.whole, whole)) {
        m.references++;
        return m;
      }
    }
    Message m = new Message(Keys.id(entry.id()), whole);
    sameId.add(m);
    return m;
  }

  /**
   * Applies {@code changes}, in order, in {@code connection}'s open transaction (auto-commit off);
   * the caller commits. Each change sees what the ones before it wrote. Returns, for each change,
   * the cursors of its appends (in order), or the {@link ConflictException} or {@link
   * DuplicateException} it failed with, having written nothing.
   *
   * @throws SQLException when the database refused a statement: the transaction is lost, for
   *     every change of it
   */
  static List<Object> applyAll(Connection connection, List<ChangeTransaction> changes) throws SQLException {
    lock(connection, changes);
    List<Object> outcomes = new ArrayList<>(changes.size());
    List<ChangeTransaction> applied = new ArrayList<>(changes.size());
    for (ChangeTransaction change : changes) {
      try {
        change.applyBeforeAppends(connection);
        outcomes.add(change);
        applied.add(change);
      } catch (ConflictException e) {
        outcomes.add(e);
      } catch (DuplicateException e) {
        // Answered from a record whose transaction may still wait for the standby: this one's
        // commit, after it, waits for the standby too (see PostgresStorage#acceptedAnswer).
        touchAccepted(connection, Keys.id(change.change.accepted().orElseThrow().id()));
        outcomes.add(e);
      }
    }
    Map<ChangeTransaction, List<Long>> cursors = append(connection, applied);
    outcomes.replaceAll(o -> o instanceof ChangeTransaction change ? cursors.get(change) : o);
    return outcomes;
  }

  /**
   * Rewrites the record of accepted message {@code id} as it is, in {@code connection}'s open
   * transaction: it waits for the transaction that wrote the record to end (a committed one still
   * holds its locks while it waits for the standby), and gives this one a write, so that its commit
   * waits, with {@code synchronous_commit} on, until the standby confirmed the log up to it.
   */
  static Void touchAccepted(Connection connection, byte[] id) throws SQLException {
    try (PreparedStatement touch = connection.prepareStatement("UPDATE accepted SET answer = answer WHERE id = ?")) {
      touch.setBytes(1, id);
      touch.executeUpdate();
    }
    return null;
  }

  /** Takes the advisory locks of every change at once, in ascending order. */
  private static void lock(Connection connection, List<ChangeTransaction> changes) throws SQLException {
    long[] all = changes.size() == 1
        ? changes.get(0).locks
        : changes.stream().flatMapToLong(c -> Arrays.stream(c.locks)).sorted().distinct().toArray();
    if (all.length == 0) {
      return;
    }
    try (PreparedStatement lock =
        connection.prepareStatement("SELECT count(pg_advisory_xact_lock(l)) FROM unnest(?::bigint[]) AS t(l)")) {
      lock.setArray(1, connection.createArrayOf("bigint", Arrays.stream(all).boxed().toArray()));
      lock.executeQuery().close();
    }
  }

  /**
   * Checks the change's conditions, records its accepted id and writes all but its appends; writes
   * nothing when it throws {@link ConflictException} or {@link DuplicateException}.
   */
  private void applyBeforeAppends(Connection connection) throws SQLException {
    try {
      checkExpectations(connection);
      checkKeys(connection);
    } catch (ConflictException conflict) {
      // The same message accepted meanwhile (on another server, or earlier in this transaction)
      // changed what was expected: that is what its sender is told.
      if (change.accepted().isPresent()) {
        Optional<byte[]> answer = acceptedAnswer(connection, Keys.id(change.accepted().get().id()));
        if (answer.isPresent()) {
          throw new DuplicateException(change.accepted().get().id(), entries.answer(answer.get()));
        }
      }
      throw conflict;
    }
    if (change.accepted().isPresent()) {
      recordAccepted(connection, change.accepted().get());
    }
    writeKeys(connection);
    for (Message message : shared) {
      message.keptOnce = keepOnce(connection, message);
    }
    writeValues(connection);
  }

  private void recordAccepted(Connection connection, StorageChange.Accepted accepted) throws SQLException {
    byte[] id = Keys.id(accepted.id());
    while (true) {
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO accepted (id, accepted_at, answer) VALUES (?, ?, ?) ON CONFLICT (id) DO NOTHING")) {
        insert.setBytes(1, id);
        insert.setLong(2, accepted.acceptedAt());
        insert.setBytes(3, entries.answer(accepted.answer()));
        if (insert.executeUpdate() == 1) {
          return;
        }
      }
      Optional<byte[]> answer = acceptedAnswer(connection, id);
      if (answer.isPresent()) {
        throw new DuplicateException(accepted.id(), entries.answer(answer.get()));
      }
      // The record was trimmed between the two statements: insert again.
    }
  }

  /** The recorded answer to accepted message {@code id} (its key), if any. */
  static Optional<byte[]> acceptedAnswer(Connection connection, byte[] id) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement("SELECT answer FROM accepted WHERE id = ?")) {
      select.setBytes(1, id);
      try (ResultSet rows = select.executeQuery()) {
        return rows.next() ? Optional.of(rows.getBytes(1)) : Optional.empty();
      }
    }
  }

  private void checkExpectations(Connection connection) throws SQLException {
    List<Writes.Expect> expectations = change.writes().expectations();
    if (expectations.isEmpty()) {
      return;
    }
    Map<SpaceKey, byte[]> current = new HashMap<>();
    try (PreparedStatement select = connection.prepareStatement(
        "SELECT space, key, value FROM key_values WHERE (space, key) IN (SELECT * FROM unnest(?::text[], ?::bytea[]))"
            + " ORDER BY space, key FOR UPDATE")) {
      select.setArray(1, connection.createArrayOf("text", expectations.stream().map(Writes.Expect::space).toArray()));
      select.setArray(2, connection.createArrayOf("bytea", expectations.stream().map(e -> Keys.key(e.key())).toArray(byte[][]::new)));
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          byte[] value = rows.getBytes(3);
          // A kept entry is a value that equals no bytes (see Writes.Keep).
          current.put(new SpaceKey(rows.getString(1), Keys.key(rows.getBytes(2))), value == null ? KEPT_ENTRY : value);
        }
      }
    }
    for (Writes.Expect expect : expectations) {
      byte[] value = current.get(new SpaceKey(expect.space(), expect.key()));
      boolean holds = expect.value().isEmpty()
          ? value == null
          : value != null && value != KEPT_ENTRY && Arrays.equals(value, expect.value().get());
      if (!holds) {
        throw new ConflictException("the value of " + expect.space() + " " + expect.key() + " changed");
      }
    }
  }

  /** Stands for a kept entry among values read: equal to no expected bytes. */
  private static final byte[] KEPT_ENTRY = new byte[0];

  private void checkKeys(Connection connection) throws SQLException {
    for (StorageChange.KeysExpected expected : change.expectedKeys()) {
      if (!keysOf(connection, expected.address()).equals(expected.keys())) {
        throw new ConflictException("the keys of " + expected.address() + " changed");
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      Optional<Address> owner = ownerOf(connection, bind.key());
      if (owner.isPresent() && !owner.get().equals(bind.address())
          && !change.unbindKeys().contains(new StorageChange.KeyBinding(owner.get(), bind.key()))) {
        throw new ConflictException("the key is bound to another address");
      }
    }
  }

  static List<Ed25519Key> keysOf(Connection connection, Address address) throws SQLException {
    try (PreparedStatement select =
        connection.prepareStatement("SELECT key FROM identities WHERE address = ? ORDER BY bound")) {
      select.setString(1, address.toString());
      List<Ed25519Key> keys = new ArrayList<>();
      try (ResultSet rows = select.executeQuery()) {
        while (rows.next()) {
          keys.add(Ed25519Key.of(rows.getBytes(1)));
        }
      }
      return keys;
    }
  }

  static Optional<Address> ownerOf(Connection connection, Ed25519Key key) throws SQLException {
    try (PreparedStatement select = connection.prepareStatement("SELECT address FROM identities WHERE key = ?")) {
      select.setBytes(1, key.bytes());
      try (ResultSet rows = select.executeQuery()) {
        return rows.next() ? Optional.of(Address.parse(rows.getString(1))) : Optional.empty();
      }
    }
  }

  /** Unbinds, then binds (so that one change can move a key); binding a key again does nothing. */
  private void writeKeys(Connection connection) throws SQLException {
    if (!change.unbindKeys().isEmpty()) {
      try (PreparedStatement delete =
          connection.prepareStatement("DELETE FROM identities WHERE address = ? AND key = ?")) {
        for (StorageChange.KeyBinding unbind : change.unbindKeys()) {
          delete.setString(1, unbind.address().toString());
          delete.setBytes(2, unbind.key().bytes());
          delete.addBatch();
        }
        delete.executeBatch();
      }
    }
    for (StorageChange.KeyBinding bind : change.bindKeys()) {
      // One at a time: each gets its place in the address's order as it is bound.
      try (PreparedStatement insert = connection.prepareStatement(
          "INSERT INTO identities (key, address) VALUES (?, ?) ON CONFLICT (key) DO NOTHING")) {
        insert.setBytes(1, bind.key().bytes());
        insert.setString(2, bind.address().toString());
        insert.executeUpdate();
      }
    }
  }

  /**
   * Keeps {@code message} once for its references, or adds them to the copy kept already; false
   * when a different message is kept under its id (its entries are then stored whole).
   */
  private static boolean keepOnce(Connection connection, Message message) throws SQLException {
    try (PreparedStatement upsert = connection.prepareStatement(
        "INSERT INTO messages (id, entry, refs) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE"
            + " SET refs = messages.refs + excluded.refs WHERE messages.entry = excluded.entry RETURNING refs")) {
      upsert.setBytes(1, message.id);
      upsert.setBytes(2, message.whole);
      upsert.setLong(3, message.references);
      try (ResultSet rows = upsert.executeQuery()) {
        return rows.next();
      }
    }
  }

  /**
   * Deletes every plugin key the change touches (releasing the messages their kept entries referred
   * to), then inserts the values and kept entries they end with.
   */
  private void writeValues(Connection connection) throws SQLException {
    if (finalValues.isEmpty()) {
      return;
    }
    List<byte[]> released = new ArrayList<>();
    try (PreparedStatement delete = connection.prepareStatement(
        "DELETE FROM key_values WHERE (space, key) IN (SELECT * FROM unnest(?::text[], ?::bytea[]))"
            + " RETURNING message_id")) {
      delete.setArray(1, connection.createArrayOf("text", finalValues.keySet().stream().map(SpaceKey::space).toArray()));
      delete.setArray(2, connection.createArrayOf("bytea",
          finalValues.keySet().stream().map(k -> Keys.key(k.key())).toArray(byte[][]::new)));
      try (ResultSet rows = delete.executeQuery()) {
        while (rows.next()) {
          byte[] id = rows.getBytes(1);
          if (id != null) {
            released.add(id);
          }
        }
      }
    }
    try (PreparedStatement insert = connection.prepareStatement(
        "INSERT INTO key_values (space, key, value, entry, message_id) VALUES (?, ?, ?, ?, ?)")) {
      int rows = 0;
      for (Map.Entry<SpaceKey, Object> e : finalValues.entrySet()) {
        if (e.getValue() instanceof Deleted) {
          continue;
        }
        insert.setString(1, e.getKey().space());
        insert.setBytes(2, Keys.key(e.getKey().key()));
        if (e.getValue() instanceof byte[] value) {
          insert.setBytes(3, value);
          insert.setBytes(4, null);
          insert.setBytes(5, null);
        } else {
          Message message = kept[(Integer) e.getValue()];
          insert.setBytes(3, null);
          insert.setBytes(4, message.keptOnce ? null : message.whole);
          insert.setBytes(5, message.keptOnce ? message.id : null);
        }
        insert.addBatch();
        rows++;
      }
      if (rows > 0) {
        insert.executeBatch();
      }
    }
    release(connection, released);
  }

  /**
   * One reference less to each message of {@code ids} (an id may come more than once); a message
   * goes with its last reference. Run after the references are gone, and after this transaction's
   * own references were added.
   */
  static void release(Connection connection, List<byte[]> ids) throws SQLException {
    if (ids.isEmpty()) {
      return;
    }
    Map<String, Integer> counts = new TreeMap<>();
    ids.forEach(id -> counts.merge(HEX.formatHex(id), 1, Integer::sum));
    Array idArray = connection.createArrayOf("bytea", counts.keySet().stream().map(HEX::parseHex).toArray(byte[][]::new));
    try (PreparedStatement update = connection.prepareStatement(
        "UPDATE messages m SET refs = m.refs - r.n FROM unnest(?::bytea[], ?::bigint[]) AS r(id, n) WHERE m.id = r.id")) {
      update.setArray(1, idArray);
      update.setArray(2, connection.createArrayOf("bigint", counts.values().stream().map(Integer::longValue).toArray()));
      update.executeUpdate();
    }
    try (PreparedStatement delete =
        connection.prepareStatement("DELETE FROM messages WHERE id = ANY (?::bytea[]) AND refs <= 0")) {
      delete.setArray(1, idArray);
      delete.executeUpdate();
    }
  }

  /**
   * Advances each mailbox's counter by the appends of {@code changes}, in address order, in one
   * statement, and inserts the entries; returns each change's cursors, in the order of its appends.
   */
  private static Map<ChangeTransaction, List<Long>> append(Connection connection, List<ChangeTransaction> changes)
      throws SQLException {
    Map<ChangeTransaction, List<Long>> cursors = new HashMap<>();
    TreeMap<String, Long> counts = new TreeMap<>();
    for (ChangeTransaction change : changes) {
      change.change.writes().appends().forEach(a -> counts.merge(a.address().toString(), 1L, Long::sum));
      cursors.put(change, new ArrayList<>(change.change.writes().appends().size()));
    }
    if (counts.isEmpty()) {
      return cursors;
    }
    Map<String, Long> next = new HashMap<>();
    try (PreparedStatement advance = connection.prepareStatement(
        "INSERT INTO mailboxes (address, last_cursor) SELECT a, n FROM unnest(?::text[], ?::bigint[]) AS t(a, n)"
            + " ORDER BY a ON CONFLICT (address) DO UPDATE SET last_cursor = mailboxes.last_cursor + excluded.last_cursor"
            + " RETURNING address, last_cursor")) {
      advance.setArray(1, connection.createArrayOf("text", counts.keySet().toArray()));
      advance.setArray(2, connection.createArrayOf("bigint", counts.values().toArray()));
      try (ResultSet rows = advance.executeQuery()) {
        while (rows.next()) {
          String address = rows.getString(1);
          next.put(address, rows.getLong(2) - counts.get(address) + 1);
        }
      }
    }
    try (PreparedStatement insert = connection.prepareStatement(
        "INSERT INTO mailbox_entries (address, cursor, received_at, entry, message_id) VALUES (?, ?, ?, ?, ?)")) {
      for (ChangeTransaction change : changes) {
        List<Writes.Append> appends = change.change.writes().appends();
        List<Long> own = cursors.get(change);
        for (int i = 0; i < appends.size(); i++) {
          Writes.Append append = appends.get(i);
          String address = append.address().toString();
          long cursor = next.merge(address, 1L, Long::sum) - 1;
          Message message = change.appended[i];
          insert.setString(1, address);
          insert.setLong(2, cursor);
          insert.setLong(3, append.entry().receivedAt());
          insert.setBytes(4, message.keptOnce ? null : message.whole);
          insert.setBytes(5, message.keptOnce ? message.id : null);
          insert.addBatch();
          own.add(cursor);
        }
      }
      insert.executeBatch();
    }
    return cursors;
  }

  /** A plugin key: its space and key. Ordered by space, then key (String order). */
  record SpaceKey(String space, String key) implements Comparable<SpaceKey> {
    @Override
    public int compareTo(SpaceKey other) {
      int bySpace = space.compareTo(other.space);
      return bySpace != 0 ? bySpace : key.compareTo(other.key);
    }
  }

  private enum Deleted {
    INSTANCE
  }

  /** One message of the change, encoded whole; kept once when several entries carry it. */
  private static final class Message {
    final byte[] id;
    final byte[] whole;
    int references = 1;
    /** Whether its entries refer to the copy in {@code messages}; decided in each attempt. */
    boolean keptOnce;

    Message(byte[] id, byte[] whole) {
      this.id = id;
      this.whole = whole;
    }
  }
}
