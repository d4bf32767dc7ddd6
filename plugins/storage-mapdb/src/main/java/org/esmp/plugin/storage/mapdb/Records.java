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
  /** A reference to a message kept once ({@link #reference}); format 3 of the store. */
  private static final byte ENTRY_REF = 2;
  /** A bucket of messages kept once, under their ids' prefix ({@link #messageBucket}). */
  private static final byte MESSAGES_V1 = 3;
  /** The bytes of a reference: format, receivedAt, id. */
  static final int REFERENCE_BYTES = 1 + Long.BYTES + 32;
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

  /**
   * When the stored entry (whole, or a {@link #reference}) was received, read without decoding the
   * rest.
   */
  static long receivedAt(byte[] storedEntry) {
    if (storedEntry[0] != ENTRY_REF) {
      checkFormat(storedEntry[0], ENTRY_V1, "mailbox entry");
    }
    return ByteBuffer.wrap(storedEntry, 1, Long.BYTES).getLong();
  }

  /**
   * The stored form of an entry whose message is kept once, in {@code messages}: the format byte,
   * {@code receivedAt} (where {@link #receivedAt} reads it) and the message id; everything else is
   * in the kept message ({@link #entry(MailboxEntry)}'s form), shared by every entry that refers to
   * it.
   */
  static byte[] reference(MailboxEntry entry) {
    return ByteBuffer.allocate(REFERENCE_BYTES).put(ENTRY_REF).putLong(entry.receivedAt())
        .put(Keys.idBytes(entry.id())).array();
  }

  /** The id a stored entry refers to, or null for a whole entry. */
  static byte[] referencedId(byte[] storedEntry) {
    if (storedEntry[0] != ENTRY_REF) {
      return null;
    }
    if (storedEntry.length != REFERENCE_BYTES) {
      throw new IllegalStateException("a message reference of " + storedEntry.length + " bytes");
    }
    return Arrays.copyOfRange(storedEntry, 1 + Long.BYTES, REFERENCE_BYTES);
  }

  /**
   * A bucket of kept messages, stored under their ids' 8-byte prefix: the format byte, then one or
   * more records of {@code id (32 bytes), length (4), entry} where entry is
   * {@link #entry(MailboxEntry)}'s form. Almost every bucket holds one message; ids sharing a
   * prefix share a bucket, so none is lost to a collision.
   */
  static byte[] messageBucket(List<KeptMessage> bucket) {
    int size = 1;
    for (KeptMessage m : bucket) {
      size += ID_BYTES + Integer.BYTES + m.entry().length;
    }
    ByteBuffer buffer = ByteBuffer.allocate(size).put(MESSAGES_V1);
    for (KeptMessage m : bucket) {
      buffer.put(m.id()).putInt(m.entry().length).put(m.entry());
    }
    return buffer.array();
  }

  /** One message of a bucket: its id and its entry, encoded. */
  record KeptMessage(byte[] id, byte[] entry) {}

  /** The messages of a stored bucket, in stored order. */
  static List<KeptMessage> keptMessages(byte[] storedBucket) {
    checkFormat(storedBucket[0], MESSAGES_V1, "kept message");
    ByteBuffer buffer = ByteBuffer.wrap(storedBucket, 1, storedBucket.length - 1);
    List<KeptMessage> bucket = new ArrayList<>(1);
    while (buffer.hasRemaining()) {
      byte[] id = new byte[ID_BYTES];
      buffer.get(id);
      int length = buffer.getInt();
      if (length < 0 || length > buffer.remaining()) {
        throw new IllegalStateException("kept message with a bad length " + length);
      }
      byte[] entry = new byte[length];
      buffer.get(entry);
      bucket.add(new KeptMessage(id, entry));
    }
    if (bucket.isEmpty()) {
      throw new IllegalStateException("empty bucket of kept messages");
    }
    return bucket;
  }

  /** The entry of {@code id} in a stored bucket, or null. */
  static byte[] keptEntry(byte[] storedBucket, byte[] id) {
    for (KeptMessage m : keptMessages(storedBucket)) {
      if (Arrays.equals(m.id(), id)) {
        return m.entry();
      }
    }
    return null;
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
