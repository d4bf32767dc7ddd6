package org.esmp.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.esmp.api.json.JsonObject;

/**
 * Writes that a {@link Storage} applies together, atomically and durably: all of them or none.
 * The storage checks no condition: callers check first and serialize changes that must not
 * interleave (for example two registrations of one address).
 *
 * @param bindKeys keys to bind to addresses (creating an address binds its first key)
 * @param unbindKeys keys to unbind from their addresses
 * @param accepted a message id to record as accepted, with the fields of the answer it got
 * @param appends entries to append to mailboxes; the storage assigns each the next cursor of its
 *     address, in list order
 * @param puts values a plugin keeps, by space and key (see {@link Storage#get}), applied after
 *     {@code deletes}
 * @param deletes values to remove
 */
public record StorageChange(
    List<KeyBinding> bindKeys,
    List<KeyBinding> unbindKeys,
    Optional<Accepted> accepted,
    List<Append> appends,
    List<Put> puts,
    List<Delete> deletes) {

  /** Copies the lists; checks for {@code null}. */
  public StorageChange {
    bindKeys = List.copyOf(bindKeys);
    unbindKeys = List.copyOf(unbindKeys);
    Objects.requireNonNull(accepted, "accepted");
    appends = List.copyOf(appends);
    puts = List.copyOf(puts);
    deletes = List.copyOf(deletes);
  }

  /**
   * A value a plugin keeps. {@code space} names the plugin's collection (e.g.
   * {@code "group-threads.thread"}); keys order by {@link String#compareTo}.
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

  /** A key of an address. */
  public record KeyBinding(Address address, Ed25519Key key) {
    public KeyBinding {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * A message the server accepted, with the fields of its {@code ack} (without {@code type},
   * {@code re} and {@code duplicate}), so that a resend gets the same answer.
   */
  public record Accepted(MessageId id, long acceptedAt, JsonObject answer) {
    public Accepted {
      Objects.requireNonNull(id, "id");
      Objects.requireNonNull(answer, "answer");
    }
  }

  /** An entry for one address's mailbox; its cursor is assigned on commit. */
  public record Append(Address address, MailboxEntry entry) {
    public Append {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(entry, "entry");
    }
  }

  /** A builder for a change. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects the writes of one change. Used by one thread. */
  public static final class Builder {
    private final List<KeyBinding> bindKeys = new ArrayList<>();
    private final List<KeyBinding> unbindKeys = new ArrayList<>();
    private Accepted accepted;
    private final List<Append> appends = new ArrayList<>();
    private final List<Put> puts = new ArrayList<>();
    private final List<Delete> deletes = new ArrayList<>();

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

    /** Binds {@code key} to {@code address}. */
    public Builder bindKey(Address address, Ed25519Key key) {
      bindKeys.add(new KeyBinding(address, key));
      return this;
    }

    /** Unbinds {@code key} from {@code address}. */
    public Builder unbindKey(Address address, Ed25519Key key) {
      unbindKeys.add(new KeyBinding(address, key));
      return this;
    }

    /** Records {@code id} as accepted with the fields of its answer. */
    public Builder accept(MessageId id, long acceptedAt, JsonObject answer) {
      accepted = new Accepted(id, acceptedAt, answer);
      return this;
    }

    /** Appends {@code entry} to the mailbox of {@code address}. */
    public Builder append(Address address, MailboxEntry entry) {
      appends.add(new Append(address, entry));
      return this;
    }

    public StorageChange build() {
      return new StorageChange(bindKeys, unbindKeys, Optional.ofNullable(accepted), appends, puts, deletes);
    }
  }
}
