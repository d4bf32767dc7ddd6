/**
 * The data directory as the server core uses it: one server at a time (a lock), files and
 * directories the core creates there readable by the server's user only, and the place of the
 * plugin jars' private copies. Internal to the server; plugins see only the directory's path.
 */
package org.esmp.server.data;
