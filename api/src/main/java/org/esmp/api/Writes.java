package org.esmp.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Writes a plugin commits together through its {@link Store}, atomically and durably: all of them
 * or none. Conditions are checked by the storage when it applies the writes, against every commit
 * before them (of this server or, in a cluster, of any): if one does not hold, nothing is applied
 * and the commit fails with {@link ConflictException}.
 *
 * @param expectations values that must be as expected for the writes to apply
 * @param deletes values to remove, applied before {@code puts}
 * @param puts values to keep, by space and key (see {@link Store#get})
 * @param appends entries to append to mailboxes; the storage assigns each the next cursor of its
 *     address, in list order, and the server pushes them to the connections that follow those
 *     mailboxes once they are durable
 * @param keeps entries to keep under keys of the plugin's spaces, such as a group's thread (since
 *     1.1): see {@link Keep}
 */
public record Writes(
    List<Expect> expectations, List<Delete> deletes, List<Put> puts, List<Append> appends, List<Keep> keeps) {

  /** Copies the lists; checks for {@code null}. */
  public Writes {
    expectations = List.copyOf(expectations);
    deletes = List.copyOf(deletes);
    puts = List.copyOf(puts);
    appends = List.copyOf(appends);
    keeps = List.copyOf(keeps);
  }

  /** Writes without kept entries: the form of API 1.0. */
  public Writes(List<Expect> expectations, List<Delete> deletes, List<Put> puts, List<Append> appends) {
    this(expectations, deletes, puts, appends, List.of());
  }

  /** No writes. */
  public static final Writes NONE = new Writes(List.of(), List.of(), List.of(), List.of(), List.of());

  /**
   * A value kept under {@code key} in {@code space}. Keys order by {@link String#compareTo}.
   */
  public record Put(String space, String key, byte[] value) {
    public Put {
      Objects.requireNonNull(space, "space");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** A value to remove; removing an absent key does nothing. */
  public record Delete(String space, String key) {
    public Delete {
      Objects.requireNonNull(space, "space");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * A condition: the value under {@code key} in {@code space} is {@code value} (the same bytes),
   * or, when {@code value} is empty, there is none.
   */
  public record Expect(String space, String key, Optional<byte[]> value) {
    public Expect {
      Objects.requireNonNull(space, "space");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(value, "value");
    }
  }

  /** An entry for one address's mailbox; its cursor is assigned on commit. */
  public record Append(Address address, MailboxEntry entry) {
    public Append {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(entry, "entry");
    }
  }

  /**
   * An entry kept under {@code key} in {@code space} (since 1.1), such as one entry of a group's
   * thread, read back with {@link Store#entry} and {@link Store#entries}. The storage keeps each
   * message once: the mailbox entries of the same message appended in the same writes, and this
   * entry, refer to that one copy, and the copy goes when the last of them is deleted (by a
   * {@link Delete} of this key, by retention for mailbox entries). A key holds a value or an
   * entry, not both: keeping an entry replaces a value under the key and a put replaces an entry;
   * conditions ({@link Expect}) see an entry as a value that equals no bytes.
   */
  public record Keep(String space, String key, MailboxEntry entry) {
    public Keep {
      Objects.requireNonNull(space, "space");
      Objects.requireNonNull(key, "key");
      Objects.requireNonNull(entry, "entry");
    }
  }

  /** A builder of writes. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects writes. Used by one thread. */
  public static final class Builder {
    private final List<Expect> expectations = new ArrayList<>();
    private final List<Delete> deletes = new ArrayList<>();
    private final List<Put> puts = new ArrayList<>();
    private final List<Append> appends = new ArrayList<>();
    private final List<Keep> keeps = new ArrayList<>();

    private Builder() {}

    /** Stores {@code value} under {@code key} in {@code space}, replacing what was there. */
    public Builder put(String space, String key, byte[] value) {
      puts.add(new Put(space, key, value));
      return this;
    }

    /** Removes {@code key} from {@code space}. */
    public Builder delete(String space, String key) {
      deletes.add(new Delete(space, key));
      return this;
    }

    /**
     * Applies the writes only if {@code key} in {@code space} holds {@code value} (the bytes read
     * before): compare-and-set, with a {@link #put} of the same key.
     */
    public Builder expect(String space, String key, byte[] value) {
      expectations.add(new Expect(space, key, Optional.of(value.clone())));
      return this;
    }

    /** Applies the writes only if {@code key} in {@code space} has no value: insert-if-absent. */
    public Builder expectAbsent(String space, String key) {
      expectations.add(new Expect(space, key, Optional.empty()));
      return this;
    }

    /** Appends {@code entry} to the mailbox of {@code address}. */
    public Builder append(Address address, MailboxEntry entry) {
      appends.add(new Append(address, entry));
      return this;
    }

    /**
     * Keeps {@code entry} under {@code key} in {@code space}, its message stored once with the
     * appends of the same entry (since 1.1): see {@link Keep}.
     */
    public Builder keep(String space, String key, MailboxEntry entry) {
      keeps.add(new Keep(space, key, entry));
      return this;
    }

    public Writes build() {
      return new Writes(expectations, deletes, puts, appends, keeps);
    }
  }
}
