/** Test helper: real libp2p hosts on loopback, stopped after each test. */
import { randomBytes } from 'node:crypto';
import type { P2PHost, P2POptions } from '../api.js';
import { createP2PHost } from '../host.js';

export class Hosts {
  private readonly all: P2PHost[] = [];

  async start(o: Partial<P2POptions> = {}): Promise<P2PHost> {
    const h = createP2PHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], mdns: false, relay: false, ...o });
    this.all.push(h);
    await h.start();
    return h;
  }

  async stopAll(): Promise<void> {
    await Promise.all(this.all.splice(0).map((h) => h.stop()));
  }
}

/** The host's loopback TCP address. */
export function tcpAddr(h: P2PHost): string {
  const a = h.status().multiaddrs.find((m) => m.startsWith('/ip4/127.0.0.1/tcp/') && !m.includes('/ws') && !m.includes('p2p-circuit'));
  if (!a) throw new Error(`no loopback tcp address in ${h.status().multiaddrs.join(' ')}`);
  return a;
}

export async function until<T>(f: () => T | undefined | false, ms = 10_000, what = 'condition'): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
