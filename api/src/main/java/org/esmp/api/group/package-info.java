/**
 * Groups (ESMP/1 section 6): the state a group's thread makes, and the ledger through which plugins
 * append to threads.
 */
package org.esmp.api.group;
