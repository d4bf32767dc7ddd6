/**
 * The {@code storage-postgres} plugin: the server's {@link org.esmp.api.spi.Storage} on a PostgreSQL
 * database that several servers of one domain share (a cluster). Everything but {@link
 * org.esmp.plugin.storage.postgres.PostgresStorage} is internal to the plugin.
 */
package org.esmp.plugin.storage.postgres;
