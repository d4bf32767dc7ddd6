/**
 * Frame JSON for the server: a strict I-JSON (RFC 7493) parser that turns one frame into the API's
 * {@link org.esmp.api.json.JsonObject}, and a writer for RFC 8785 (JCS) canonical bytes and for
 * server frames.
 *
 * <p>Internal to the server: not part of the plugin API, may change at any time.
 */
package org.esmp.json;
