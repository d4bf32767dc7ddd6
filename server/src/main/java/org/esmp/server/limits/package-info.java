/**
 * Limits on what clients may use: rate limits ({@link org.esmp.server.limits.TokenBuckets} keyed by
 * IP or address) and the memory budgets for input and output ({@link
 * org.esmp.server.limits.MemoryBudget}). Internal to the server, not part of the plugin API.
 */
package org.esmp.server.limits;
