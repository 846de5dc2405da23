/**
 * The libp2p host as the rest of the node sees it. Federation requests are ordinary WHATWG
 * Request/Response objects carried over libp2p streams; the remote side is known by its
 * authenticated libp2p identity, which is also its Matrix server name.
 */

/** The authenticated identity of the peer at the other end of a stream. */
export interface RemotePeer {
  /** Lowercase hex of the peer's ed25519 public key: its Matrix server name. */
  serverName: string;
  peerId: string;
  /** True when the connection runs through a circuit relay. */
  relayed: boolean;
}

/** Serves one inbound federation request. */
export type FederationHandler = (req: Request, remote: RemotePeer) => Promise<Response>;

export interface PeerInfo {
  peerId: string;
  serverName: string;
  /** Known multiaddrs, each ending in /p2p/<peerId>. */
  addresses: string[];
  connected: boolean;
  /** ms since the epoch; 0 when never seen. */
  lastSeen: number;
  /** Last measured round trip, null when never pinged. */
  rttMs: number | null;
}

export interface P2PStatus {
  peerId: string;
  /** Dialable addresses, each with /p2p/<peerId>. */
  multiaddrs: string[];
  peers: PeerInfo[];
}

export interface P2POptions {
  /** The node's ed25519 seed (32 bytes): the libp2p private key and the Matrix signing key. */
  seed: Uint8Array;
  /** Listen multiaddrs; default TCP and WS on all interfaces, port 0. */
  listen: string[];
  /** Bootstrap peers (multiaddrs with /p2p/). */
  peers: string[];
  mdns: boolean;
  /** Act as a circuit relay v2 server for others. */
  relay: boolean;
}

export interface P2PHost {
  readonly peerId: string;
  readonly serverName: string;
  start(): Promise<void>;
  stop(): Promise<void>;
  status(): P2PStatus;
  /** Sends a federation request to a server by name, dialling the PeerId derived from the
   * name (known addresses, then the DHT, then relays). Rejects when unreachable. */
  fetch(serverName: string, req: Request, opts?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Response>;
  /** Installs the handler for inbound federation requests. */
  serve(handler: FederationHandler): void;
  /** Called whenever a peer is seen: a connection opens, discovery finds it, it calls us.
   * Returns an unsubscribe function. */
  onPeerSeen(cb: (serverName: string) => void): () => void;
  /** Dials a multiaddr (with /p2p/). */
  dial(multiaddr: string): Promise<void>;
}
