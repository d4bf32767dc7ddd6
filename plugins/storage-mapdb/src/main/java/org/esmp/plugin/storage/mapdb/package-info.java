/**
 * The {@code storage-mapdb} plugin: the server's {@link org.esmp.api.spi.Storage} on one MapDB file,
 * MapDB's plain store (no MapDB transactions) on its own redo journal ({@link
 * org.esmp.plugin.storage.mapdb.JournaledVolume}), written by one group-commit thread. Everything but
 * {@link org.esmp.plugin.storage.mapdb.MapDbStorage} is internal to the plugin.
 */
package org.esmp.plugin.storage.mapdb;
