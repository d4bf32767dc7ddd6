/**
 * The federation plugin (ESMP/1 section 8), outbound: {@link org.esmp.plugins.federation.FederationRelay}
 * sends the outbox to other domains' servers, one {@link org.esmp.plugins.federation.PeerOutbox} (and
 * thread) per domain, and forwards group and lookup messages. Internal to the plugin.
 */
package org.esmp.plugins.federation;
