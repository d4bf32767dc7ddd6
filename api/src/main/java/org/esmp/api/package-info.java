/**
 * The ESMP plugin API: the message model and the PF4J extension points through which the server
 * publishes verified messages. This package and {@code org.esmp.api.json} are all a plugin compiles
 * against (with scope {@code provided}: the server supplies them and PF4J at run time).
 */
package org.esmp.api;
