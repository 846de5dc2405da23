/**
 * mDNS between two network namespaces joined by a veth pair: the two hosts have no bootstrap
 * peers and must find each other on the "LAN" alone. Needs root and `ip netns`.
 */
import { execFileSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HostProcess } from './testing/process.js';

const tag = `axm${process.pid % 100000}`;
const NS = [`${tag}a`, `${tag}b`] as const;
const ADDR = ['10.231.0.1', '10.231.0.2'] as const;

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function unavailable(): string | undefined {
  if (process.platform !== 'linux') return 'not Linux';
  if (process.getuid?.() !== 0) return 'not root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
  } catch {
    return '`ip netns` is unavailable';
  }
  // Root in a container may still lack CAP_NET_ADMIN: try one.
  try {
    ip('netns', 'add', `${tag}p`);
    ip('netns', 'del', `${tag}p`);
  } catch (e) {
    return `cannot create a network namespace (${(e as Error).message.split('\n')[0]})`;
  }
  return undefined;
}

function cleanup(): void {
  for (const ns of NS) {
    try {
      ip('netns', 'del', ns);
    } catch {
      // Not created, or already gone.
    }
  }
}

const skip = unavailable();
if (skip) console.log(`mdns.test.ts skipped: ${skip}`);

describe.skipIf(skip !== undefined)('mDNS discovery across a veth pair', () => {
  const procs: HostProcess[] = [];

  beforeAll(() => {
    cleanup();
    try {
      for (const ns of NS) ip('netns', 'add', ns);
      ip('link', 'add', `${tag}va`, 'netns', NS[0], 'type', 'veth', 'peer', 'name', `${tag}vb`, 'netns', NS[1]);
      for (let i = 0; i < 2; i++) {
        const [ns, dev] = [NS[i]!, `${tag}v${'ab'[i]}`];
        ip('-n', ns, 'addr', 'add', `${ADDR[i]}/24`, 'dev', dev);
        ip('-n', ns, 'link', 'set', dev, 'up', 'multicast', 'on');
        ip('-n', ns, 'link', 'set', 'lo', 'up');
        // No default route in a fresh namespace: multicast needs one to leave by the veth.
        ip('-n', ns, 'route', 'add', '224.0.0.0/4', 'dev', dev);
      }
    } catch (e) {
      cleanup();
      throw e;
    }
  });

  afterAll(() => {
    for (const p of procs) p.kill();
    cleanup();
  });

  it('two hosts with no bootstrap peers find each other and talk', async () => {
    const [a, b] = NS.map((ns) => HostProcess.start({ listen: ['/ip4/0.0.0.0/tcp/0'], mdns: true }, ['ip', 'netns', 'exec', ns]));
    procs.push(a!, b!);
    const ra = await a!.waitFor((e) => e.event === 'ready', 20_000, 'A ready');
    const rb = await b!.waitFor((e) => e.event === 'ready', 20_000, 'B ready');
    expect(ra.multiaddrs).toContainEqual(expect.stringMatching(new RegExp(`^/ip4/${ADDR[0].replace(/\./g, '\\.')}/tcp/\\d+/p2p/`)));
    await a!.waitFor((e) => e.event === 'seen' && e.serverName === rb.serverName, 30_000, 'A sees B by mDNS');
    await b!.waitFor((e) => e.event === 'seen' && e.serverName === ra.serverName, 30_000, 'B sees A by mDNS');
    a!.send({ cmd: 'fetch', to: rb.serverName });
    const got = await a!.waitFor((e) => e.event === 'fetched' || e.event === 'error', 15_000, 'fetch');
    expect(got).toMatchObject({ event: 'fetched', status: 200, body: { server: rb.serverName, from: ra.serverName } });
    a!.send({ cmd: 'status' });
    const st = await a!.waitFor((e) => e.event === 'status', 5000, 'status');
    const peers = (st.status as { peers: Array<{ serverName: string; connected: boolean; addresses: string[] }> }).peers;
    const pb = peers.find((p) => p.serverName === rb.serverName);
    expect(pb?.connected).toBe(true);
    expect(pb?.addresses.some((m) => m.startsWith(`/ip4/${ADDR[1]}/tcp/`))).toBe(true);
  }, 120_000);
});
