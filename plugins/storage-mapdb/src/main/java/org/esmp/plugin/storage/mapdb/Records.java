package org.esmp.plugin.storage.mapdb;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Optional;
import java.util.OptionalLong;
import org.esmp.api.Address;
import org.esmp.api.JsonCodec;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.json.JsonObject;

/**
 * The byte forms of stored values. Each starts with a format byte so that a later layout can read
 * older records. JSON goes through the server's {@link JsonCodec}. Thread-safe (stateless).
 */
final class Records {

  private static final byte ENTRY_V1 = 1;
  private static final byte ACCEPTED_V1 = 1;
  private static final int HAS_GROUP = 1;
  private static final int HAS_SEQ = 2;

  private final JsonCodec json;

  Records(JsonCodec json) {
    this.json = json;
  }

  /**
   * A mailbox entry without its cursor (the cursor is the key). {@code receivedAt} comes right
   * after the format byte so that trim can read it without parsing the rest.
   */
  byte[] entry(MailboxEntry entry) {
    byte[] message = json.write(entry.message());
    ByteArrayOutputStream bytes = new ByteArrayOutputStream(message.length + 128);
    try (DataOutputStream out = new DataOutputStream(bytes)) {
      out.writeByte(ENTRY_V1);
      out.writeLong(entry.receivedAt());
      out.writeUTF(entry.id().hex());
      out.writeUTF(entry.from().toString());
      int flags = (entry.groupId().isPresent() ? HAS_GROUP : 0) | (entry.seq().isPresent() ? HAS_SEQ : 0);
      out.writeByte(flags);
      if (entry.groupId().isPresent()) {
        writeBytes(out, entry.groupId().get().getBytes(StandardCharsets.UTF_8));
      }
      if (entry.seq().isPresent()) {
        out.writeLong(entry.seq().getAsLong());
      }
      writeBytes(out, message);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return bytes.toByteArray();
  }

  /** The entry stored at {@code cursor}. */
  MailboxEntry entry(long cursor, byte[] stored) {
    try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(stored))) {
      checkFormat(in.readByte(), ENTRY_V1, "mailbox entry");
      long receivedAt = in.readLong();
      MessageId id = new MessageId(in.readUTF());
      Address from = Address.parse(in.readUTF());
      int flags = in.readByte();
      Optional<String> groupId =
          (flags & HAS_GROUP) != 0
              ? Optional.of(new String(readBytes(in), StandardCharsets.UTF_8))
              : Optional.empty();
      OptionalLong seq = (flags & HAS_SEQ) != 0 ? OptionalLong.of(in.readLong()) : OptionalLong.empty();
      JsonObject message = json.parseObject(readBytes(in));
      return new MailboxEntry(cursor, id, from, receivedAt, message, groupId, seq);
    } catch (IOException e) {
      throw new IllegalStateException("unreadable mailbox entry at cursor " + cursor, e);
    }
  }

  /** When the stored entry was received, read without decoding the rest. */
  static long receivedAt(byte[] storedEntry) {
    checkFormat(storedEntry[0], ENTRY_V1, "mailbox entry");
    return ByteBuffer.wrap(storedEntry, 1, Long.BYTES).getLong();
  }

  /** The record of an accepted message: when, and the answer it got. */
  byte[] accepted(long acceptedAt, JsonObject answer) {
    byte[] answerBytes = json.write(answer);
    ByteBuffer buffer = ByteBuffer.allocate(1 + Long.BYTES + answerBytes.length);
    buffer.put(ACCEPTED_V1).putLong(acceptedAt).put(answerBytes);
    return buffer.array();
  }

  static long acceptedAt(byte[] storedAccepted) {
    checkFormat(storedAccepted[0], ACCEPTED_V1, "accepted record");
    return ByteBuffer.wrap(storedAccepted, 1, Long.BYTES).getLong();
  }

  JsonObject acceptedAnswer(byte[] storedAccepted) {
    checkFormat(storedAccepted[0], ACCEPTED_V1, "accepted record");
    return json.parseObject(Arrays.copyOfRange(storedAccepted, 1 + Long.BYTES, storedAccepted.length));
  }

  private static void writeBytes(DataOutputStream out, byte[] bytes) throws IOException {
    out.writeInt(bytes.length);
    out.write(bytes);
  }

  private static byte[] readBytes(DataInputStream in) throws IOException {
    int length = in.readInt();
    if (length < 0) {
      throw new IOException("negative length " + length);
    }
    return in.readNBytes(length);
  }

  private static void checkFormat(byte actual, byte expected, String what) {
    if (actual != expected) {
      throw new IllegalStateException("unknown " + what + " format " + actual);
    }
  }
}
