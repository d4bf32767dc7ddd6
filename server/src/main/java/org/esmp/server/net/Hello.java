package org.esmp.server.net;

import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.config.ServerConfig;

/**
 * The {@code hello} every connection gets first (ESMP/1 section 4), all but its challenge: made
 * once per server.
 *
 * @param serverKey the server's public key, base64 (section 8)
 */
record Hello(ServerConfig config, String serverKey) {

  /** The frame for a connection whose challenge is {@code challenge}. */
  JsonObject frame(String challenge) {
    return JsonObject.builder()
        .put("type", "hello")
        .put("protocol", "esmp/1")
        .put("domain", config.domain())
        .put("domains", JsonArray.ofStrings(config.domains()))
        .put("challenge", challenge)
        .put("max_frame", config.maxFrame())
        .put("server_key", serverKey)
        .build();
  }
}
