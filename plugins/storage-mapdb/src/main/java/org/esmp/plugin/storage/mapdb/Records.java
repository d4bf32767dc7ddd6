package org.esmp.plugin.storage.mapdb;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
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
  /** Version 1 held one record under the id in hex; version 2 is a bucket under its prefix. */
  private static final byte ACCEPTED_V2 = 2;
  private static final int ID_BYTES = 32;
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

  /**
   * The record of accepted message {@code id}: when, and the answer it got. Stored under the id's
   * 8-byte prefix ({@link Keys#idPrefix}) as a <em>bucket</em>: the format byte, then one or more
   * records of {@code id (32 bytes), acceptedAt (8), answer length (4), answer}. Almost every
   * bucket holds one record; ids sharing a prefix share a bucket, so none is ever lost to a
   * collision.
   */
  byte[] accepted(MessageId id, long acceptedAt, JsonObject answer) {
    return acceptedBucket(List.of(new Accepted(Keys.idBytes(id), acceptedAt, json.write(answer))));
  }

  /** One record of an accepted bucket, its answer still encoded. */
  record Accepted(byte[] id, long acceptedAt, byte[] answer) {

    boolean isFor(byte[] otherId) {
      return Arrays.equals(id, otherId);
    }
  }

  static byte[] acceptedBucket(List<Accepted> bucket) {
    int size = 1;
    for (Accepted a : bucket) {
      size += ID_BYTES + Long.BYTES + Integer.BYTES + a.answer().length;
    }
    ByteBuffer buffer = ByteBuffer.allocate(size).put(ACCEPTED_V2);
    for (Accepted a : bucket) {
      buffer.put(a.id()).putLong(a.acceptedAt()).putInt(a.answer().length).put(a.answer());
    }
    return buffer.array();
  }

  /** The records of a stored bucket, in stored order. */
  static List<Accepted> acceptedRecords(byte[] storedBucket) {
    checkFormat(storedBucket[0], ACCEPTED_V2, "accepted record");
    ByteBuffer buffer = ByteBuffer.wrap(storedBucket, 1, storedBucket.length - 1);
    List<Accepted> bucket = new ArrayList<>(1);
    while (buffer.hasRemaining()) {
      byte[] id = new byte[ID_BYTES];
      buffer.get(id);
      long acceptedAt = buffer.getLong();
      int length = buffer.getInt();
      if (length < 0 || length > buffer.remaining()) {
        throw new IllegalStateException("accepted record with a bad answer length " + length);
      }
      byte[] answer = new byte[length];
      buffer.get(answer);
      bucket.add(new Accepted(id, acceptedAt, answer));
    }
    if (bucket.isEmpty()) {
      throw new IllegalStateException("empty accepted bucket");
    }
    return bucket;
  }

  /** The answer recorded for {@code id} in a stored bucket, if it holds {@code id}. */
  Optional<JsonObject> acceptedAnswer(byte[] storedBucket, byte[] id) {
    for (Accepted a : acceptedRecords(storedBucket)) {
      if (a.isFor(id)) {
        return Optional.of(json.parseObject(a.answer()));
      }
    }
    return Optional.empty();
  }

  /** Decodes the answer of an accepted record (to check a stored record is readable). */
  JsonObject answer(Accepted accepted) {
    return json.parseObject(accepted.answer());
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
