package org.esmp.api.spi;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonObject;

/**
 * What a {@link Storage} applies in one commit, atomically and durably: all of it or none. Built by
 * the server only: a plugin's part is its {@link Writes}; identities and accepted ids are the
 * server's.
 *
 * <p><b>Conditions</b>, checked by the storage when it applies the change, against every change
 * applied before it; when one fails nothing is applied:
 *
 * <ul>
 *   <li>each of {@code writes}' {@link Writes#expectations() expectations}, and each of
 *       {@code expectedKeys}: else the commit fails with {@link org.esmp.api.ConflictException};
 *   <li>a key of {@code bindKeys} is bound to no other address (a key belongs to at most one
 *       address): else {@link org.esmp.api.ConflictException};
 *   <li>the id of {@code accepted} is not recorded yet (insert-if-absent): else the commit fails
 *       with {@link org.esmp.api.DuplicateException} carrying the recorded answer.
 * </ul>
 *
 * @param writes the plugin-visible part: conditions on values, deletes, puts, mailbox appends
 * @param bindKeys keys to bind to addresses, after {@code unbindKeys} (creating an address binds
 *     its first key); binding a key the address has already does nothing
 * @param unbindKeys keys to unbind from their addresses
 * @param expectedKeys conditions on addresses' keys
 * @param accepted a message id to record as accepted, with the fields of the answer it got
 */
public record StorageChange(
    Writes writes,
    List<KeyBinding> bindKeys,
    List<KeyBinding> unbindKeys,
    List<KeysExpected> expectedKeys,
    Optional<Accepted> accepted) {

  /** Copies the lists; checks for {@code null}. */
  public StorageChange {
    Objects.requireNonNull(writes, "writes");
    bindKeys = List.copyOf(bindKeys);
    unbindKeys = List.copyOf(unbindKeys);
    expectedKeys = List.copyOf(expectedKeys);
    Objects.requireNonNull(accepted, "accepted");
  }

  /** A key of an address. */
  public record KeyBinding(Address address, Ed25519Key key) {
    public KeyBinding {
      Objects.requireNonNull(address, "address");
      Objects.requireNonNull(key, "key");
    }
  }

  /**
   * A condition: {@code address} has exactly {@code keys}, oldest first (none: the address does not
   * exist).
   */
  public record KeysExpected(Address address, List<Ed25519Key> keys) {
    public KeysExpected {
      Objects.requireNonNull(address, "address");
      keys = List.copyOf(keys);
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

  /** A builder for a change. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects the parts of one change. Used by one thread. */
  public static final class Builder {
    private final Writes.Builder writes = Writes.builder();
    private final List<KeyBinding> bindKeys = new ArrayList<>();
    private final List<KeyBinding> unbindKeys = new ArrayList<>();
    private final List<KeysExpected> expectedKeys = new ArrayList<>();
    private Accepted accepted;

    private Builder() {}

    /** Adds the plugin-visible {@code writes}: their conditions, deletes, puts and appends. */
    public Builder writes(Writes writes) {
      writes.expectations().forEach(e -> e.value().ifPresentOrElse(
          v -> this.writes.expect(e.space(), e.key(), v), () -> this.writes.expectAbsent(e.space(), e.key())));
      writes.deletes().forEach(d -> this.writes.delete(d.space(), d.key()));
      writes.puts().forEach(p -> this.writes.put(p.space(), p.key(), p.value()));
      writes.appends().forEach(a -> this.writes.append(a.address(), a.entry()));
      writes.keeps().forEach(k -> this.writes.keep(k.space(), k.key(), k.entry()));
      return this;
    }

    /** See {@link Writes.Builder#put}. */
    public Builder put(String space, String key, byte[] value) {
      writes.put(space, key, value);
      return this;
    }

    /** See {@link Writes.Builder#delete}. */
    public Builder delete(String space, String key) {
      writes.delete(space, key);
      return this;
    }

    /** See {@link Writes.Builder#expect}. */
    public Builder expect(String space, String key, byte[] value) {
      writes.expect(space, key, value);
      return this;
    }

    /** See {@link Writes.Builder#expectAbsent}. */
    public Builder expectAbsent(String space, String key) {
      writes.expectAbsent(space, key);
      return this;
    }

    /** See {@link Writes.Builder#append}. */
    public Builder append(Address address, MailboxEntry entry) {
      writes.append(address, entry);
      return this;
    }

    /** See {@link Writes.Builder#keep}. */
    public Builder keep(String space, String key, MailboxEntry entry) {
      writes.keep(space, key, entry);
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

    /** Applies the change only if {@code address} has exactly {@code keys} (none: it does not exist). */
    public Builder expectKeys(Address address, List<Ed25519Key> keys) {
      expectedKeys.add(new KeysExpected(address, keys));
      return this;
    }

    /** Records {@code id} as accepted with the fields of its answer, if it is not recorded yet. */
    public Builder accept(MessageId id, long acceptedAt, JsonObject answer) {
      accepted = new Accepted(id, acceptedAt, answer);
      return this;
    }

    public StorageChange build() {
      return new StorageChange(writes.build(), bindKeys, unbindKeys, expectedKeys, Optional.ofNullable(accepted));
    }
  }
}
