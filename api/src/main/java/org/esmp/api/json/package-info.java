/**
 * A small immutable JSON model: what the server parsed from a frame, and what plugins put into
 * answers. It keeps the API free of any JSON library, so a plugin may use whichever it likes inside.
 */
package org.esmp.api.json;
