import '../p2p/polyfill.js';
import { randomBytes } from 'node:crypto';
import { createP2PHost } from '../p2p/index.js';
import { percentile, round } from './stats.js';

/** Runs `total` requests, `concurrency` at a time; returns req/s and latency percentiles. */
async function measure(total: number, concurrency: number, one: () => Promise<void>): Promise<Record<string, number>> {
  const samples: number[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next++ < total) {
        const t = performance.now();
        await one();
        samples.push(performance.now() - t);
      }
    }),
  );
  const seconds = (performance.now() - start) / 1000;
  samples.sort((a, b) => a - b);
  return { requests: total, concurrency, req_per_s: round(total / seconds, 1), p50_ms: round(percentile(samples, 50), 3), p99_ms: round(percentile(samples, 99), 3) };
}

/**
 * Federation requests over our libp2p transport between two hosts on loopback TCP: a small
 * GET answered with a small JSON body, sequentially and 10 at a time.
 */
export async function p2pFederation(): Promise<Record<string, unknown>> {
  const mk = () => createP2PHost({ seed: randomBytes(32), listen: ['/ip4/127.0.0.1/tcp/0'], peers: [], mdns: false, relay: false });
  const a = mk();
  const b = mk();
  await Promise.all([a.start(), b.start()]);
  try {
    const body = JSON.stringify({ server: { name: 'axon', version: '0.1.0' } });
    b.serve(async () => new Response(body, { headers: { 'content-type': 'application/json' } }));
    await a.dial(b.status().multiaddrs.find((m) => m.includes('/tcp/') && !m.includes('p2p-circuit'))!);
    const one = async () => {
      const res = await a.fetch(b.serverName, new Request(`http://${b.serverName}/_matrix/federation/v1/version`));
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
    };
    await measure(200, 10, one); // warm-up
    return { transport: 'tcp loopback, noise, yamux, one stream per request', sequential: await measure(2000, 1, one), concurrent_10: await measure(5000, 10, one) };
  } finally {
    await Promise.all([a.stop(), b.stop()]);
  }
}
