import { afterEach, describe, expect, it } from 'vitest';
import { Hosts, tcpAddr, until } from './testing/hosts.js';

const hosts = new Hosts();
afterEach(() => hosts.stopAll());

describe('p2p host', () => {
  it('listens on TCP and WS on all interfaces by default, and lists concrete addresses with /p2p/', async () => {
    const h = await hosts.start({ listen: [] });
    const addrs = h.status().multiaddrs;
    expect(h.status().peerId).toBe(h.peerId);
    expect(addrs.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\//.test(a))).toBe(true);
    expect(addrs.some((a) => /^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/ws\/p2p\//.test(a))).toBe(true);
    expect(addrs.every((a) => a.endsWith(`/p2p/${h.peerId}`) && !a.includes('0.0.0.0'))).toBe(true);
  });

  it('connects to bootstrap peers, lists them with addresses and rtt, and reports them seen', async () => {
    const b = await hosts.start();
    const seenByB: string[] = [];
    b.onPeerSeen((name) => seenByB.push(name));
    const a = await hosts.start({ peers: [tcpAddr(b)] });
    const peer = await until(() => a.status().peers.find((p) => p.serverName === b.serverName && p.connected && p.rttMs !== null), 20_000, 'bootstrap peer with rtt');
    expect(peer.peerId).toBe(b.peerId);
    expect(peer.addresses).toContain(tcpAddr(b));
    expect(peer.lastSeen).toBeGreaterThan(Date.now() - 10_000);
    expect(peer.rttMs).toBeGreaterThanOrEqual(0);
    await until(() => seenByB.includes(a.serverName), 5000, 'onPeerSeen on the bootstrap node');
    // B learns A's listen address from identify, not A's ephemeral dialling port.
    const back = await until(() => b.status().peers.find((p) => p.serverName === a.serverName && p.addresses.includes(tcpAddr(a))), 5000, 'A in B table');
    expect(back.connected).toBe(true);
  });

  it('fires onPeerSeen on an inbound request, and unsubscribes', async () => {
    const a = await hosts.start();
    const b = await hosts.start();
    b.serve(async () => new Response('{}'));
    const names: string[] = [];
    const off = b.onPeerSeen((n) => names.push(n));
    await a.dial(tcpAddr(b));
    await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`));
    const count = names.filter((n) => n === a.serverName).length;
    expect(count).toBeGreaterThanOrEqual(2); // connection open + the request
    off();
    await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`));
    expect(names.filter((n) => n === a.serverName).length).toBe(count);
  });

  it('finds a peer it was never told about through the DHT, by server name alone', async () => {
    const b = await hosts.start();
    const a = await hosts.start({ peers: [tcpAddr(b)] });
    const c = await hosts.start({ peers: [tcpAddr(b)] });
    c.serve(async (_req, remote) => new Response(JSON.stringify({ from: remote.serverName })));
    await until(() => b.status().peers.filter((p) => p.connected).length === 2, 20_000, 'both connected to B');
    const res = await a.fetch(c.serverName, new Request(`http://${c.serverName}/who`), { timeoutMs: 15_000 });
    expect(await res.json()).toEqual({ from: a.serverName });
    expect(a.status().peers.find((p) => p.serverName === c.serverName)?.connected).toBe(true);
  });

  it('reaches a peer through a circuit relay, and the callee sees the relayed connection', async () => {
    const relay = await hosts.start({ relay: true });
    const c = await hosts.start({ listen: ['/ip4/127.0.0.1/tcp/0', '/p2p-circuit'], peers: [tcpAddr(relay)] });
    let relayed: boolean | undefined;
    c.serve(async (req, remote) => {
      relayed = remote.relayed;
      return new Response(new Uint8Array(await req.arrayBuffer()));
    });
    // C takes a reservation on the relay and advertises a /p2p-circuit address.
    const circuit = await until(() => c.status().multiaddrs.find((m) => m.includes(`/p2p/${relay.peerId}/p2p-circuit/p2p/${c.peerId}`)), 15_000, 'circuit address');
    const a = await hosts.start();
    await a.dial(circuit);
    // More than the relay's default per-circuit data limit (128 KiB): ours has none.
    const body = new Uint8Array(512 * 1024).fill(7);
    const res = await a.fetch(c.serverName, new Request(`http://${c.serverName}/r`, { method: 'POST', body }));
    expect(Buffer.from(await res.arrayBuffer()).equals(Buffer.from(body))).toBe(true);
    expect(relayed).toBe(true);
  });

  it('start() fails with the reason when the listen address is taken', async () => {
    const a = await hosts.start();
    const port = /\/tcp\/(\d+)/.exec(tcpAddr(a))![1];
    await expect(hosts.start({ listen: [`/ip4/127.0.0.1/tcp/${port}`] })).rejects.toThrow(/EADDRINUSE/);
  });

  it('carries federation requests over WebSockets', async () => {
    const b = await hosts.start({ listen: ['/ip4/127.0.0.1/tcp/0/ws'] });
    b.serve(async (_req, remote) => new Response(JSON.stringify({ from: remote.serverName })));
    const ws = b.status().multiaddrs.find((m) => m.includes('/ws/'))!;
    const a = await hosts.start();
    await a.dial(ws);
    const res = await a.fetch(b.serverName, new Request(`http://${b.serverName}/x`));
    expect(await res.json()).toEqual({ from: a.serverName });
    expect(a.status().peers.find((p) => p.serverName === b.serverName)?.addresses).toContain(ws);
  });

  it('dial() refuses a multiaddr without /p2p/', async () => {
    const a = await hosts.start();
    await expect(a.dial('/ip4/127.0.0.1/tcp/1')).rejects.toThrow(/no \/p2p\//);
  });
});
