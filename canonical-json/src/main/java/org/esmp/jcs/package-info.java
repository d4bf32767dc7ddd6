/**
 * RFC 8785 (JSON Canonicalization Scheme) output for ESMP, shared by the server and the client so
 * that both sign and verify the very same bytes: {@link org.esmp.jcs.CanonicalJsonWriter}.
 *
 * <p>Internal to the project: not part of the plugin API (plugins reach canonical bytes through
 * the API's {@code JsonCodec}), may change at any time.
 */
package org.esmp.jcs;
