package org.esmp.plugins.federation;

import org.esmp.api.JsonCodec;
import org.esmp.api.Store;
import org.esmp.api.federation.Federation;

/**
 * What every peer's outbox shares: the server's services and the plugin's connector, frames and
 * notices; this server's name as a holder of outbox leases, and how long a lease lasts ({@link
 * OutboxLease}).
 */
record FederationParts(Federation federation, Store store, JsonCodec json, PeerConnector connector, Frames frames,
    Notices notices, String leaseHolder, long leaseMillis) {}
