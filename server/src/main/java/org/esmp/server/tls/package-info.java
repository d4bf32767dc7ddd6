/**
 * TLS on the ESMP port: the server's certificate and key read from PEM files ({@link
 * org.esmp.server.tls.PemKeyPair}), the context new connections get and its reload when the files
 * change ({@link org.esmp.server.tls.ServerTls}), the channel binding {@code auth} carries ({@link
 * org.esmp.server.tls.ChannelBinding}), and self-signed pairs for local use ({@link
 * org.esmp.server.tls.SelfSigned}).
 */
package org.esmp.server.tls;
