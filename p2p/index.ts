import './polyfill.js';

export type { FederationHandler, P2PHost, P2POptions, P2PStatus, PeerInfo, RemotePeer } from './api.js';
export { createP2PHost, DEFAULT_LISTEN } from './host.js';
export { isServerName, peerIdFromServerName, privateKeyFromSeed, serverNameFromPeerId } from './peerid.js';
export { FEDERATION_PROTOCOL, RESERVED_HEADER } from './transport.js';
