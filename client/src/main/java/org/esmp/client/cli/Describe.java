package org.esmp.client.cli;

import static java.nio.charset.StandardCharsets.UTF_8;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import org.esmp.client.Delivery;
import org.esmp.client.Jcs;

/** One-line human descriptions of what arrives, as {@code listen} and {@code group history} print them. */
final class Describe {

  private Describe() {}

  /** A mailbox entry: {@code [GROUP #SEQ] } before group traffic. */
  static String delivery(Delivery d) {
    return (d.groupId() != null ? "[" + d.groupId() + " #" + d.seq() + "] " : "") + line(d);
  }

  /** A thread entry: {@code #SEQ } first. */
  static String historyEntry(Delivery d) {
    return "#" + d.seq() + " " + line(d);
  }

  private static String line(Delivery d) {
    JsonNode body = JsonOut.read(d.body());
    String member = body.path("member").asText(d.from());
    return switch (d.type()) {
      case "group_created" -> {
        List<String> members = new ArrayList<>();
        body.path("members").forEach(m -> members.add(m.asText()));
        yield d.from() + " created the group" + (body.hasNonNull("name")
            ? " \"" + body.get("name").asText() + "\"" : "")
            + (members.isEmpty() ? "" : " with " + String.join(", ", members));
      }
      case "joined" -> member.equals(d.from()) ? d.from() + " joined" : d.from() + " added " + member;
      case "left" -> d.from() + " left";
      case "removed" -> d.from() + " removed " + member;
      default -> d.from() + ": " + (d.text() != null ? d.text()
          : d.type() + " " + new String(Jcs.compact(body), UTF_8));
    };
  }
}
