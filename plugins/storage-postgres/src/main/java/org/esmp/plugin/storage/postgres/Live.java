package org.esmp.plugin.storage.postgres;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import org.esmp.api.Address;

/**
 * Messages of ephemeral types sent to the other servers of the cluster on the channel {@value
 * #CHANNEL}: one message per payload, {@code v1 <node>} naming the sending storage, then either
 * {@code =<base64>}, the message sealed ({@link LiveKey}), when that keeps the payload within
 * {@link Hints#MAX_BYTES} (PostgreSQL refuses 8,000 bytes or more), or {@code #<id>}, the row of
 * {@code live_messages} that holds it sealed. Sealed is {@link Message#encode}: a format byte, the
 * sender's sequence number, when it was sent, the recipients, the frame.
 */
final class Live {

  static final String CHANNEL = "esmp_live";
  private static final String VERSION = "v1";
  private static final byte FORMAT = 1;
  private static final Base64.Encoder BASE64 = Base64.getEncoder();
  private static final Base64.Decoder BASE64_DECODER = Base64.getDecoder();

  private Live() {}

  /** The payload carrying {@code sealed} itself; empty when it would not fit in {@code maxBytes}. */
  static Optional<String> inline(String node, byte[] sealed, int maxBytes) {
    int length = VERSION.length() + 1 + node.length() + 2 + 4 * ((sealed.length + 2) / 3);
    if (length > maxBytes) {
      return Optional.empty();
    }
    return Optional.of(VERSION + ' ' + node + "\n=" + BASE64.encodeToString(sealed));
  }

  /** The start of a payload naming a row: {@code v1 <node>\n#}, the row's id to follow. */
  static String rowPrefix(String node) {
    return VERSION + ' ' + node + "\n#";
  }

  /** Reads {@code payload}; empty when it is malformed (another version, or not ours). */
  static Optional<Notice> decode(String payload) {
    if (payload == null || !payload.startsWith(VERSION + ' ')) {
      return Optional.empty();
    }
    int newline = payload.indexOf('\n');
    if (newline <= VERSION.length() + 1 || newline + 1 >= payload.length()) {
      return Optional.empty();
    }
    String node = payload.substring(VERSION.length() + 1, newline);
    char kind = payload.charAt(newline + 1);
    String rest = payload.substring(newline + 2);
    try {
      if (kind == '=') {
        return Optional.of(new Notice(node, Optional.of(BASE64_DECODER.decode(rest)), OptionalLong.empty()));
      }
      if (kind == '#') {
        return Optional.of(new Notice(node, Optional.empty(), OptionalLong.of(Long.parseLong(rest))));
      }
    } catch (IllegalArgumentException malformed) { // NumberFormatException included
      return Optional.empty();
    }
    return Optional.empty();
  }

  /**
   * One payload read.
   *
   * @param node the storage that sent it
   * @param sealed the message sealed, when in the payload
   * @param row otherwise, the row of {@code live_messages} holding it
   */
  record Notice(String node, Optional<byte[]> sealed, OptionalLong row) {}

  /**
   * One message, as sealed.
   *
   * @param sequence the sender's count of the messages it sent: a receiver takes only one above the
   *     last it took from that sender, so that a payload sent again (by a role that listened) is not
   *     delivered twice
   * @param sentAt when it was sealed, milliseconds since the Unix epoch by the sender's clock: a
   *     receiver takes none much older, so that one sent again reaches no server that has
   *     forgotten the sender's numbers (it restarted) either
   * @param recipients the addresses it went to
   * @param frame its {@code deliver} frame, as the server made it
   */
  record Message(long sequence, long sentAt, List<Address> recipients, byte[] frame) {

    static Message of(long sequence, long sentAt, Collection<Address> recipients, byte[] frame) {
      return new Message(sequence, sentAt, List.copyOf(recipients), frame);
    }

    byte[] encode() {
      ByteArrayOutputStream bytes = new ByteArrayOutputStream(frame.length + 32 * recipients.size() + 16);
      try (DataOutputStream out = new DataOutputStream(bytes)) {
        out.writeByte(FORMAT);
        out.writeLong(sequence);
        out.writeLong(sentAt);
        out.writeInt(recipients.size());
        for (Address recipient : recipients) {
          out.writeUTF(recipient.toString());
        }
        out.writeInt(frame.length);
        out.write(frame);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      return bytes.toByteArray();
    }

    /** The message {@code plain} holds; empty when it is not one this version reads. */
    static Optional<Message> decode(byte[] plain) {
      try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(plain))) {
        if (in.readByte() != FORMAT) {
          return Optional.empty();
        }
        long sequence = in.readLong();
        long sentAt = in.readLong();
        int count = in.readInt();
        if (count < 0 || count > plain.length) {
          return Optional.empty();
        }
        List<Address> recipients = new ArrayList<>(count);
        for (int i = 0; i < count; i++) {
          String address = in.readUTF();
          if (!Address.isValid(address)) {
            return Optional.empty();
          }
          recipients.add(Address.parse(address));
        }
        int length = in.readInt();
        if (length < 0 || length != in.available()) {
          return Optional.empty();
        }
        return Optional.of(new Message(sequence, sentAt, List.copyOf(recipients), in.readNBytes(length)));
      } catch (IOException e) {
        return Optional.empty();
      }
    }
  }
}
