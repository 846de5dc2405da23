import { afterEach, describe, expect, it } from 'vitest';
import { HostProcess } from './testing/process.js';

const procs: HostProcess[] = [];
afterEach(() => {
  for (const p of procs.splice(0)) p.kill();
});

describe('p2p host in its own process', () => {
  it('stops cleanly: after stop() the process exits by itself, with no open handles', async () => {
    const b = HostProcess.start({ listen: ['/ip4/127.0.0.1/tcp/0', '/ip4/127.0.0.1/tcp/0/ws'] });
    procs.push(b);
    const rb = await b.waitFor((e) => e.event === 'ready', 15_000, 'B ready');
    const addr = (rb.multiaddrs as string[]).find((m) => !m.includes('/ws') && !m.includes('p2p-circuit'))!;
    const a = HostProcess.start({ listen: ['/ip4/127.0.0.1/tcp/0'], peers: [addr] });
    procs.push(a);
    await a.waitFor((e) => e.event === 'ready', 15_000, 'A ready');
    a.send({ cmd: 'fetch', to: rb.serverName });
    const got = await a.waitFor((e) => e.event === 'fetched' || e.event === 'error', 15_000, 'fetch');
    expect(got).toMatchObject({ event: 'fetched', status: 200, body: { server: rb.serverName } });
    for (const p of [a, b]) p.send({ cmd: 'stop' });
    for (const p of [a, b]) {
      await p.waitFor((e) => e.event === 'stopped', 10_000, 'stopped');
      const code = await Promise.race([p.exit, new Promise((r) => setTimeout(() => r('still running'), 5000))]);
      expect(code).toBe(0);
    }
  }, 90_000);
});
