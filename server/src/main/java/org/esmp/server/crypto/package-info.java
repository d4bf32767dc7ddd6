/**
 * Signature verification and message ids (ESMP/1 section 2.1). Internal to the server: plugins
 * never see this package; they receive messages that have already passed through it.
 */
package org.esmp.server.crypto;
