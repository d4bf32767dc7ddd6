/**
 * What plugins keep, through the server: the one commit path ({@link org.esmp.server.store.Commits})
 * that makes every mailbox append durable and then pushes it, each plugin's own
 * {@link org.esmp.server.store.PluginStore}, and the server's requests, which know whether their
 * message has been recorded as accepted. Internal to the server.
 */
package org.esmp.server.store;
