package org.esmp.plugin.storage.postgres;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.esmp.api.Address;

/**
 * The payloads of the wake-ups the servers of a cluster send each other on the channel {@value
 * #CHANNEL}: one line {@code v1 <node>} naming the sending storage, then either one {@code <address>
 * <cursor>} line per mailbox (its highest cursor that storage committed), or the line {@code *}:
 * "I lost hints, read everything again". Each payload stays under {@value #MAX_BYTES} bytes
 * (PostgreSQL refuses a NOTIFY payload of 8,000 bytes or more); addresses are ASCII, so a character
 * is a byte.
 */
final class Hints {

  static final String CHANNEL = "esmp_appends";
  /** The bytes a payload stays within, some below PostgreSQL's limit. */
  static final int MAX_BYTES = 7_900;
  private static final String VERSION = "v1";
  private static final String CATCH_UP = "*";

  private Hints() {}

  /** Payloads telling {@code cursors} (highest cursor by address), each within {@code maxBytes}. */
  static List<String> encode(String node, Map<String, Long> cursors, int maxBytes) {
    String header = VERSION + ' ' + node;
    List<String> payloads = new ArrayList<>();
    StringBuilder payload = new StringBuilder(header);
    for (Map.Entry<String, Long> e : cursors.entrySet()) {
      String line = "\n" + e.getKey() + ' ' + e.getValue();
      if (payload.length() + line.length() > maxBytes && payload.length() > header.length()) {
        payloads.add(payload.toString());
        payload.setLength(header.length());
      }
      payload.append(line);
    }
    if (payload.length() > header.length()) {
      payloads.add(payload.toString());
    }
    return payloads;
  }

  static List<String> encode(String node, Map<String, Long> cursors) {
    return encode(node, cursors, MAX_BYTES);
  }

  /** The payload telling every listener that {@code node} lost hints. */
  static String catchUp(String node) {
    return VERSION + ' ' + node + '\n' + CATCH_UP;
  }

  /**
   * Reads {@code payload}; empty when it is malformed (from another version, or not ours): a
   * listener ignores it whole.
   */
  static Optional<Hint> decode(String payload) {
    if (payload == null || payload.getBytes(StandardCharsets.UTF_8).length >= 8_000) {
      return Optional.empty();
    }
    String[] lines = payload.split("\n", -1);
    if (lines.length < 2 || !lines[0].startsWith(VERSION + ' ') || lines[0].length() == VERSION.length() + 1) {
      return Optional.empty();
    }
    String node = lines[0].substring(VERSION.length() + 1);
    if (lines.length == 2 && lines[1].equals(CATCH_UP)) {
      return Optional.of(new Hint(node, true, Map.of()));
    }
    Map<Address, Long> cursors = new HashMap<>();
    for (int i = 1; i < lines.length; i++) {
      String line = lines[i];
      int space = line.indexOf(' ');
      if (space < 0 || !Address.isValid(line.substring(0, space))) {
        return Optional.empty();
      }
      long cursor;
      try {
        cursor = Long.parseLong(line.substring(space + 1));
      } catch (NumberFormatException e) {
        return Optional.empty();
      }
      if (cursor < 1) {
        return Optional.empty();
      }
      cursors.merge(Address.parse(line.substring(0, space)), cursor, Math::max);
    }
    return Optional.of(new Hint(node, false, cursors));
  }

  /**
   * One payload read.
   *
   * @param node the storage that sent it
   * @param catchUp it lost hints: every mailbox followed is read again
   * @param cursors otherwise, the highest cursor of each mailbox it appended to
   */
  record Hint(String node, boolean catchUp, Map<Address, Long> cursors) {}
}
