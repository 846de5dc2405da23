/**
 * The libp2p host: transports, encryption, muxing, discovery and routing, a table of the peers
 * it has seen, and the federation transport on top (./transport.ts).
 */
import './polyfill.js';
import { noise } from '@chainsafe/libp2p-noise';
import { yamux } from '@chainsafe/libp2p-yamux';
import { bootstrap } from '@libp2p/bootstrap';
import { circuitRelayServer, circuitRelayTransport } from '@libp2p/circuit-relay-v2';
import { identify } from '@libp2p/identify';
import type { Connection, Libp2p, PeerId, PeerInfo as Libp2pPeerInfo, PeerUpdate } from '@libp2p/interface';
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht';
import { mdns } from '@libp2p/mdns';
import { ping, type Ping } from '@libp2p/ping';
import { tcp } from '@libp2p/tcp';
import { webSockets } from '@libp2p/websockets';
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr';
import { createLibp2p } from 'libp2p';
import type { Logger } from 'pino';
import type { FederationHandler, P2PHost, P2POptions, P2PStatus, PeerInfo } from './api.js';
import { peerIdFromServerName, privateKeyFromSeed, tryServerNameFromPeerId } from './peerid.js';
import { createFederationTransport, type FederationTransport } from './transport.js';

export const DEFAULT_LISTEN = ['/ip4/0.0.0.0/tcp/0', '/ip4/0.0.0.0/tcp/0/ws'];
/** Our own protocol prefixes: Axon nodes form their own DHT and mDNS group. */
export const DHT_PROTOCOL = '/axon/kad/1.0.0';
export const MDNS_SERVICE_TAG = '_axon._udp.local';
export const PING_INTERVAL_MS = 15_000;

type Services = { identify: unknown; ping: Ping; dht: KadDHT; relay?: unknown };

interface PeerEntry {
  peerId: string;
  serverName: string;
  addresses: Set<string>;
  lastSeen: number;
  rttMs: number | null;
}

/** A multiaddr as a string ending in /p2p/<peerId>. */
function withPeerId(ma: Multiaddr, peerId: string): string {
  const comps = ma.getComponents();
  const last = comps[comps.length - 1];
  if (last?.name === 'p2p' && last.value === peerId) return ma.toString();
  return ma.encapsulate(`/p2p/${peerId}`).toString();
}

export function createP2PHost(opts: P2POptions, logger?: Logger): P2PHost {
  const privateKey = privateKeyFromSeed(opts.seed);
  const serverName = Buffer.from(privateKey.publicKey.raw).toString('hex');
  const selfId = peerIdFromServerName(serverName).toString();
  const log = logger?.child({ component: 'p2p' });
  const peers = new Map<string, PeerEntry>();
  const seenCallbacks = new Set<(serverName: string) => void>();
  let node: Libp2p<Services> | undefined;
  let transport: FederationTransport | undefined;
  let handler: FederationHandler | undefined;
  let pingTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  function entry(id: PeerId | string): PeerEntry | undefined {
    const peerId = id.toString();
    if (peerId === selfId) return undefined;
    let e = peers.get(peerId);
    if (!e) {
      const name = tryServerNameFromPeerId(id);
      // Only ed25519 peers can be Matrix servers; others (foreign libp2p nodes) are not listed.
      if (name === undefined) return undefined;
      e = { peerId, serverName: name, addresses: new Set(), lastSeen: 0, rttMs: null };
      peers.set(peerId, e);
    }
    return e;
  }

  function seen(id: PeerId | string, addrs: Multiaddr[] = []): void {
    const e = entry(id);
    if (!e) return;
    e.lastSeen = Date.now();
    for (const a of addrs) e.addresses.add(withPeerId(a, e.peerId));
    for (const cb of seenCallbacks) {
      try {
        cb(e.serverName);
      } catch (err) {
        log?.error({ err, peer: e.serverName }, 'onPeerSeen callback failed');
      }
    }
  }

  async function pingPeer(peerId: PeerId): Promise<void> {
    if (!node || stopped) return;
    try {
      const rtt = await node.services.ping.ping(peerId, { signal: AbortSignal.timeout(10_000), runOnLimitedConnection: true });
      const e = entry(peerId);
      if (e) e.rttMs = rtt;
    } catch (err) {
      log?.debug({ err, peer: peerId.toString() }, 'ping failed');
    }
  }

  function pingAll(): void {
    if (!node) return;
    const ids = new Map<string, PeerId>();
    for (const c of node.getConnections()) ids.set(c.remotePeer.toString(), c.remotePeer);
    for (const id of ids.values()) void pingPeer(id);
  }

  function onConnectionOpen(evt: CustomEvent<Connection>): void {
    const conn = evt.detail;
    // An inbound connection's remote address is an ephemeral port: identify tells us the real ones.
    seen(conn.remotePeer, conn.direction === 'outbound' ? [conn.remoteAddr] : []);
    void pingPeer(conn.remotePeer);
  }

  function onDiscovery(evt: CustomEvent<Libp2pPeerInfo>): void {
    const { id, multiaddrs } = evt.detail;
    seen(id, multiaddrs);
    if (node && !stopped && node.getConnections(id).length === 0 && tryServerNameFromPeerId(id) !== undefined) {
      node.dial(id, { signal: AbortSignal.timeout(10_000) }).catch((err: unknown) => log?.debug({ err, peer: id.toString() }, 'dial of discovered peer failed'));
    }
  }

  function onPeerUpdate(evt: CustomEvent<PeerUpdate>): void {
    const { peer } = evt.detail;
    const e = peer.id.toString() === selfId ? undefined : peers.get(peer.id.toString());
    if (!e) return;
    for (const a of peer.addresses) e.addresses.add(withPeerId(a.multiaddr, e.peerId));
  }

  async function start(): Promise<void> {
    if (node) return;
    stopped = false;
    // '/p2p-circuit' is not a default: while looking for a relay it costs ~5 ms of CPU per
    // stream opened (measured), so a node behind NAT opts in with --p2p /p2p-circuit.
    const listen = opts.listen.length > 0 ? [...opts.listen] : [...DEFAULT_LISTEN];
    const services: Record<string, unknown> = {
      identify: identify(),
      ping: ping({ runOnLimitedConnection: true }),
      dht: kadDHT({ protocol: DHT_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper }),
    };
    // Relayed connections carry federation traffic of any size, so no per-circuit data cap.
    if (opts.relay) services.relay = circuitRelayServer({ reservations: { applyDefaultLimit: false } });
    const created = await createLibp2p({
      privateKey,
      addresses: { listen },
      transports: [tcp(), webSockets(), circuitRelayTransport()],
      connectionEncrypters: [noise()],
      // A burst of requests may open many streams before the remote finishes its upgrade.
      streamMuxers: [yamux({ maxEarlyStreams: 300 })],
      peerDiscovery: [
        ...(opts.peers.length > 0 ? [bootstrap({ list: opts.peers })] : []),
        ...(opts.mdns ? [mdns({ serviceTag: MDNS_SERVICE_TAG, interval: 5_000 })] : []),
      ],
      services: services as never,
      start: false,
    });
    const n = created as unknown as Libp2p<Services>;
    n.addEventListener('connection:open', onConnectionOpen);
    n.addEventListener('connection:close', (evt) => {
      const e = peers.get(evt.detail.remotePeer.toString());
      if (e) e.lastSeen = Date.now();
    });
    n.addEventListener('peer:discovery', onDiscovery);
    n.addEventListener('peer:update', onPeerUpdate);
    const t = createFederationTransport({ node: n, serverName, logger: log, onInbound: (name) => seen(peerIdFromServerName(name)) });
    if (handler) t.serve(handler);
    try {
      await t.start();
      await n.start();
    } catch (e) {
      // E.g. a listen address in use: leave nothing running behind.
      await t.stop().catch(() => undefined);
      await Promise.resolve(n.stop()).catch(() => undefined);
      throw e;
    }
    node = n;
    transport = t;
    pingTimer = setInterval(pingAll, PING_INTERVAL_MS);
    pingTimer.unref();
    log?.info({ peer: selfId, addrs: n.getMultiaddrs().map(String) }, 'p2p host started');
  }

  async function stop(): Promise<void> {
    stopped = true;
    clearInterval(pingTimer);
    pingTimer = undefined;
    const n = node;
    node = undefined;
    if (!n) return;
    await transport?.stop();
    transport = undefined;
    await n.stop();
  }

  function status(): P2PStatus {
    const connected = new Set(node?.getConnections().map((c) => c.remotePeer.toString()) ?? []);
    const list: PeerInfo[] = [...peers.values()].map((e) => ({
      peerId: e.peerId,
      serverName: e.serverName,
      addresses: [...e.addresses],
      connected: connected.has(e.peerId),
      lastSeen: e.lastSeen,
      rttMs: e.rttMs,
    }));
    return { peerId: selfId, multiaddrs: node ? node.getMultiaddrs().map((m) => withPeerId(m, selfId)) : [], peers: list };
  }

  return {
    peerId: selfId,
    serverName,
    start,
    stop,
    status,
    async fetch(name, req, o) {
      if (!transport) throw new Error('p2p host is not started');
      return transport.fetch(name, req, o);
    },
    serve(h) {
      handler = h;
      transport?.serve(h);
    },
    onPeerSeen(cb) {
      seenCallbacks.add(cb);
      return () => {
        seenCallbacks.delete(cb);
      };
    },
    async dial(addr) {
      if (!node) throw new Error('p2p host is not started');
      const ma = multiaddr(addr);
      if (!ma.getComponents().some((c) => c.name === 'p2p')) throw new Error(`multiaddr has no /p2p/ peer id: ${addr}`);
      await node.dial(ma);
    },
  };
}

