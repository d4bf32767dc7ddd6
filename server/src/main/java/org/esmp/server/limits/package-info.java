/**
 * Rate limits: {@link org.esmp.server.limits.TokenBuckets} keyed by IP or address. Internal to the
 * server, not part of the plugin API.
 */
package org.esmp.server.limits;
