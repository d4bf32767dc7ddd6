/**
 * Federation (ESMP/1 section 8): servers of different domains relaying to each other. The server
 * offers {@link org.esmp.api.federation.Federation} (its key, its peers' endpoints, the entries kept
 * for addresses of other domains); a plugin implements {@link org.esmp.api.federation.Relay} to send
 * them on. The server itself answers other servers' {@code auth} and {@code relay} frames (since
 * 1.3).
 */
package org.esmp.api.federation;
