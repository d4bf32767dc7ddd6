/**
 * The service provider interface for storage authors: {@link org.esmp.api.spi.Storage}, which
 * exactly one installed plugin implements, and the {@link org.esmp.api.spi.StorageChange} the
 * server commits through it. Only the server calls a storage; other plugins keep their data
 * through {@link org.esmp.api.Store}, and cannot reach a storage's identities or accepted ids.
 */
package org.esmp.api.spi;
