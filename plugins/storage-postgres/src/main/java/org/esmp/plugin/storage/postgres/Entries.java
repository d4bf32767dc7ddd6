package org.esmp.plugin.storage.postgres;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;
import java.util.OptionalLong;
import org.esmp.api.Address;
import org.esmp.api.JsonCodec;
import org.esmp.api.MailboxEntry;
import org.esmp.api.json.JsonObject;

/**
 * The byte forms of mailbox entries (without their cursor: it is a column) and answers. An entry
 * starts with a format byte so that a later layout can read older rows. JSON goes through the
 * server's {@link JsonCodec}. Thread-safe.
 */
final class Entries {

  private static final byte ENTRY_V1 = 1;
  private static final int HAS_GROUP = 1;
  private static final int HAS_SEQ = 2;

  private final JsonCodec json;

  Entries(JsonCodec json) {
    this.json = json;
  }

  byte[] encode(MailboxEntry entry) {
    byte[] message = json.write(entry.message());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(message.length + 128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(ENTRY_V1);
      out.write(Keys.id(entry.id()));
      out.writeLong(entry.receivedAt());
      out.writeUTF(entry.from().toString());
      out.writeByte((entry.groupId().isPresent() ? HAS_GROUP : 0) | (entry.seq().isPresent() ? HAS_SEQ : 0));
      if (entry.groupId().isPresent()) {
        out.writeUTF(entry.groupId().get());
      }
      if (entry.seq().isPresent()) {
        out.writeLong(entry.seq().getAsLong());
      }
      out.writeInt(message.length);
      out.write(message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The entry stored as {@code stored}, at {@code cursor}. */
  MailboxEntry decode(long cursor, byte[] stored) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stored))) {
      byte format = in.readByte();
      if (format != ENTRY_V1) {
        throw new IllegalStateException("storage-postgres: unknown entry format " + format);
      }
      byte[] id = in.readNBytes(32);
      long receivedAt = in.readLong();
      Address from = Address.parse(in.readUTF());
      int flags = in.readByte();
      Optional<String> groupId = (flags & HAS_GROUP) != 0 ? Optional.of(in.readUTF()) : Optional.empty();
      OptionalLong seq = (flags & HAS_SEQ) != 0 ? OptionalLong.of(in.readLong()) : OptionalLong.empty();
      byte[] message = in.readNBytes(in.readInt());
      return new MailboxEntry(cursor, Keys.id(id), from, receivedAt, json.parseObject(message), groupId, seq);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  byte[] answer(JsonObject answer) {
    return json.write(answer);
  }

  JsonObject answer(byte[] stored) {
    return json.parseObject(stored);
  }
}
