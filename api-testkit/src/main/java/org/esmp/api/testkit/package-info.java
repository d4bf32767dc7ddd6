/**
 * For plugin authors' unit tests: {@link org.esmp.api.testkit.TestContext}, a
 * {@link org.esmp.api.ServerContext} over an {@link org.esmp.api.testkit.InMemoryStorage} that
 * checks commit conditions as a real storage does; {@link org.esmp.api.testkit.TestRequest}, a
 * request builder; and {@link org.esmp.api.testkit.TestJsonCodec}. Depend on it with scope
 * {@code test}, beside {@code esmp-api} with scope {@code provided}.
 */
package org.esmp.api.testkit;
