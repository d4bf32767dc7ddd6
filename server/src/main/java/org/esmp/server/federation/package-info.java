/**
 * Server to server (ESMP/1 section 8). So far the server's own Ed25519 key ({@link
 * org.esmp.server.federation.ServerKey}), which {@code hello} announces; relaying comes next (issue 15).
 */
package org.esmp.server.federation;
