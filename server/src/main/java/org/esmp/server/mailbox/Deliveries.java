package org.esmp.server.mailbox;

import org.esmp.api.MailboxEntry;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.json.JsonWriter;

/** The {@code deliver} frame of a mailbox entry (ESMP/1 section 3). */
final class Deliveries {

  private Deliveries() {}

  /** {@code {"type":"deliver","cursor":N,"id":…,"from":…,"received_at":…,["group_id","seq",]"message":{…}}}. */
  static byte[] encode(MailboxEntry entry) {
    JsonObject.Builder frame = JsonObject.builder()
        .put("type", "deliver")
        .put("cursor", entry.cursor() == 0 ? JsonNull.INSTANCE : JsonNumber.of(entry.cursor()))
        .put("id", entry.id().hex())
        .put("from", entry.from().toString())
        .put("received_at", entry.receivedAt());
    entry.groupId().ifPresent(group -> frame.put("group_id", group));
    entry.seq().ifPresent(seq -> frame.put("seq", seq));
    frame.put("message", entry.message());
    return JsonWriter.write(frame.build());
  }
}
