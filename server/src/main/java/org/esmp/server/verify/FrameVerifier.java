package org.esmp.server.verify;

import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Predicate;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.ErrorCode;
import org.esmp.api.MessageId;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;
import org.esmp.server.crypto.Ed25519Verifier;
import org.esmp.server.crypto.MessageIds;
import org.esmp.json.BadJsonException;
import org.esmp.json.FrameParser;
import org.esmp.json.JsonWriter;

/**
 * Turns one frame into a verified message or a refusal, checking in the order of ESMP/1 section 3:
 * JSON and I-JSON rules, required fields and their forms, then the signature. Nothing of a frame is
 * trusted before this returns {@link Verdict.Verified}.
 *
 * <p>{@code ts} is required on every type but the session types (ESMP/1 section 2.1): the server's
 * and those running plugins declare, decided from the type's name alone, so a type no plugin
 * declares needs one too.
 * Since that needs the type, a missing {@code ts} is reported right after the type's form is
 * checked: a malformed type is {@code bad_field} first, a missing {@code ts} comes before the forms
 * of the other fields.
 *
 * <p>Thread-safe and free of I/O: it runs on the verification threads, many frames at once.
 */
public final class FrameVerifier {

  static final String SIGNATURE = "signature";
  static final String SENDER_PUBKEY = "sender_pubkey";
  private static final int SIGNATURE_LENGTH = 64;
  private static final int MAX_TYPE_LENGTH = 64;
  private static final int MAX_GROUP_ID_LENGTH = 128;

  private final FrameParser parser;
  private final Ed25519Verifier verifier;
  private final Predicate<String> sessionTypes;

  /** @param sessionTypes whether a type is a session type, asked for each message */
  public FrameVerifier(FrameParser parser, Ed25519Verifier verifier, Predicate<String> sessionTypes) {
    this.parser = parser;
    this.verifier = verifier;
    this.sessionTypes = sessionTypes;
  }

  /** Checks {@code frame} (one line, without its line ending). */
  public Verdict check(byte[] frame) {
    JsonObject message;
    try {
      message = parser.parse(frame, 0, frame.length);
    } catch (BadJsonException e) {
      return new Verdict.Refused(null, ErrorCode.BAD_JSON, e.getMessage());
    }
    return check(message);
  }

  /**
   * Checks {@code message}, a message object already parsed by the strict parser: one carried in a
   * frame, as a {@code relay} carries the message it relays (ESMP/1 section 8).
   */
  public Verdict check(JsonObject message) {
    // The id needs only a usable key, so that even a message with a bad field gets an answer
    // its sender can match.
    Ed25519Key key = parseKey(message.get(SENDER_PUBKEY));
    byte[] signingBytes = JsonWriter.canonicalWithout(message, SIGNATURE, SENDER_PUBKEY);
    MessageId id = key == null ? null : MessageIds.of(key, signingBytes);

    for (String field : new String[] {"type", "to", "body", SIGNATURE, SENDER_PUBKEY}) {
      if (!message.has(field)) {
        return new Verdict.Refused(id, ErrorCode.MISSING_FIELD, "missing field '" + field + "'");
      }
    }
    try {
      String type = type(message.get("type"));
      if (!message.has("ts") && !sessionTypes.test(type)) {
        return new Verdict.Refused(id, ErrorCode.MISSING_FIELD,
            "missing field 'ts' (required on every type but the session types, such as auth, sync and lookup)");
      }
      List<Address> to = addresses("to", message.get("to"));
      List<Address> cc = message.has("cc") ? addresses("cc", message.get("cc")) : List.of();
      Optional<String> groupId = message.has("group_id") ? Optional.of(groupId(message.get("group_id"))) : Optional.empty();
      OptionalLong ts = message.has("ts") ? OptionalLong.of(ts(message.get("ts"))) : OptionalLong.empty();
      byte[] signature = signature(message.get(SIGNATURE));
      if (key == null) {
        throw new FieldException("sender_pubkey must be the standard padded base64 of 32 bytes");
      }
      if (!verifier.verify(key, signature, signingBytes, 0, signingBytes.length)) {
        return new Verdict.Refused(id, ErrorCode.BAD_SIGNATURE, "signature does not verify");
      }
      return new Verdict.Verified(
          new SignedMessage(id, type, to, cc, groupId, message.get("body"), ts, key, message));
    } catch (FieldException e) {
      return new Verdict.Refused(id, ErrorCode.BAD_FIELD, e.getMessage());
    }
  }

  private static Ed25519Key parseKey(JsonValue value) {
    if (value instanceof JsonString s) {
      try {
        return Ed25519Key.fromBase64(s.value());
      } catch (IllegalArgumentException e) {
        return null;
      }
    }
    return null;
  }

  private static String type(JsonValue value) {
    String type = value.asString();
    if (type == null || !isTypeName(type)) {
      throw new FieldException("type must be 1-64 characters of [a-z0-9_.-]");
    }
    return type;
  }

  /** Whether {@code name} is a valid message type: 1–64 characters of {@code [a-z0-9_.-]}. */
  public static boolean isTypeName(String name) {
    if (name.isEmpty() || name.length() > MAX_TYPE_LENGTH) {
      return false;
    }
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private static List<Address> addresses(String field, JsonValue value) {
    JsonArray array = value.asArray();
    if (array == null) {
      throw new FieldException(field + " must be an array of addresses");
    }
    List<Address> addresses = new ArrayList<>(array.size());
    for (JsonValue item : array) {
      String text = item.asString();
      if (text == null || !Address.isValid(text)) {
        throw new FieldException(field + " holds something that is not an address (local#domain, lowercase)");
      }
      addresses.add(Address.parse(text));
    }
    return addresses;
  }

  private static String groupId(JsonValue value) {
    String id = value.asString();
    if (id == null || id.isEmpty() || id.length() > MAX_GROUP_ID_LENGTH) {
      throw new FieldException("group_id must be 1-128 characters of [A-Za-z0-9_-]");
    }
    for (int i = 0; i < id.length(); i++) {
      char c = id.charAt(i);
      if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) {
        throw new FieldException("group_id must be 1-128 characters of [A-Za-z0-9_-]");
      }
    }
    return id;
  }

  private static long ts(JsonValue value) {
    if (value instanceof JsonNumber n && n.isSafeInteger()) {
      return n.longValue();
    }
    throw new FieldException("ts must be an integer, milliseconds since the Unix epoch");
  }

  private static byte[] signature(JsonValue value) {
    String text = value.asString();
    if (text != null) {
      try {
        byte[] raw = Base64.getDecoder().decode(text);
        // Re-encoding catches missing padding and non-zero pad bits: one text form per signature.
        if (raw.length == SIGNATURE_LENGTH && Base64.getEncoder().encodeToString(raw).equals(text)) {
          return raw;
        }
      } catch (IllegalArgumentException e) {
        // falls through to the refusal
      }
    }
    throw new FieldException("signature must be the standard padded base64 of 64 bytes");
  }

  /** A field of the wrong form; becomes {@code bad_field}. */
  private static final class FieldException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    FieldException(String message) {
      super(message, null, false, false);
    }
  }
}
