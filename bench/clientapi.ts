import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { Worker } from 'node:worker_threads';
import { defaultConfig, type AxonConfig } from '../core/config.js';
import { createNode } from '../core/node.js';
import { ROOM_OUTPUT_TOPIC } from '../core/roomserver/api.js';
import { TEST_P2P, registerUser } from '../core/test/node.js';
import { tmpDir } from '../core/test/fixtures.js';
import { stopAndRemove } from './cleanup.js';
import { profiled } from './profile.js';
import { mainThreadCpuMs, percentile, round } from './stats.js';

async function json(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
}

let runs = 0;

/** Runs the load generator: `perSender` PUTs per token, all tokens at once; resolves the
 * seconds it took and each send's latency in ms. */
function loadGenerator(url: string, roomId: string, tokens: string[], perSender: number): Promise<{ seconds: number; latencies: number[] }> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./send-worker.js', import.meta.url), { workerData: { url, roomId, tokens, perSender, runId: `run${runs++}` } });
    w.once('message', (m: { seconds: number; latencies: number[] }) => resolve(m));
    w.once('error', reject);
  });
}

/** The same load against a bare node:http server that parses the body and answers a fixed
 * event id: the ceiling this machine and load generator put on any homeserver's figure. */
async function bareHttpBaseline(messages: number): Promise<number> {
  const reply = JSON.stringify({ event_id: '$aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      JSON.parse(Buffer.concat(chunks).toString('utf8'));
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(reply) });
      res.end(reply);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const { port } = server.address() as AddressInfo;
    const tokens = Array.from({ length: 10 }, (_, i) => `t${i}`);
    return messages / (await loadGenerator(`http://127.0.0.1:${port}`, '!bench:baseline', tokens, messages / tokens.length)).seconds;
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

/** Messages per sender before the measured run: V8 goes on compiling the send path for about
 * the first 10,000 messages (the rate rises chunk by chunk until then). */
const WARM_UP_PER_SENDER = 1500;

/**
 * Through the HTTP API of a real node: messages/s into one room from 10 concurrent senders,
 * and /sync wake latency (a message is sent; how long until another user's waiting /sync
 * returns it), p50 and p99.
 */
export async function clientApi(): Promise<Record<string, unknown>> {
  const node = createNode(defaultConfig(tmpDir('axon-bench-'), { http: { host: '127.0.0.1', port: 0 }, logLevel: 'silent', rateLimit: 0, p2p: TEST_P2P } as Partial<AxonConfig>));
  const { url } = await node.start();
  try {
    const senders = await Promise.all(Array.from({ length: 10 }, (_, i) => registerUser(url, `sender${i}`)));
    const reader = await registerUser(url, 'reader');
    const auth = (t: string) => ({ Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' });
    const { room_id: roomId } = await json(
      await fetch(`${url}/_matrix/client/v3/createRoom`, { method: 'POST', headers: auth(senders[0]!.access_token), body: JSON.stringify({ preset: 'public_chat' }) }),
    );
    for (const u of [...senders.slice(1), reader]) {
      await json(await fetch(`${url}/_matrix/client/v3/join/${encodeURIComponent(String(roomId))}`, { method: 'POST', headers: auth(u.access_token), body: '{}' }));
    }
    let txn = 0;
    const send = (token: string, body: string) =>
      fetch(`${url}/_matrix/client/v3/rooms/${encodeURIComponent(String(roomId))}/send/m.room.message/t${txn++}`, {
        method: 'PUT',
        headers: auth(token),
        body: JSON.stringify({ msgtype: 'm.text', body }),
      }).then(json);

    // Warm-up, not measured: for the first seconds after start, V8 compiles the hot paths on
    // its background threads, which on 2 cores take CPU from the node's own thread. A node
    // runs for hours; the figure is its steady state (the room then also has some history).
    const tokens = senders.map((s) => s.access_token);
    const warmSeconds = (await loadGenerator(url, String(roomId), tokens, WARM_UP_PER_SENDER)).seconds;
    // Throughput: each sender sends its share back to back, all ten at once, from a worker.
    const perSender = 1000;
    // CPU per message (node and load generator together) tells more than messages/s on a
    // machine shared with other work; the load average says how shared it was.
    const cpu0 = process.cpuUsage();
    const load = os.loadavg()[0]!;
    // The node's own thread: how long it was busy per message bounds messages/s from above.
    const elu0 = performance.eventLoopUtilization();
    const threadCpu0 = mainThreadCpuMs();
    const { seconds, latencies } = await profiled('client_api-send', () => loadGenerator(url, String(roomId), tokens, perSender));
    latencies.sort((a, b) => a - b);
    const elu = performance.eventLoopUtilization(elu0);
    const threadCpu1 = mainThreadCpuMs();
    const cpu = process.cpuUsage(cpu0);

    // Wake latency at steady state: first let every consumer (sync, search, notifications,
    // federation) finish the burst above.
    while (node.log.status().some((t) => t.consumers.some((c) => c.lag > 0))) await new Promise((r) => setTimeout(r, 20));
    // How many commits each consumer of room events needed for the burst (and the setup before it).
    const batches = Object.fromEntries(node.log.status().flatMap((t) => (t.name === ROOM_OUTPUT_TOPIC ? t.consumers.map((c) => [c.name, c.batches]) : [])));

    // Wake latency: the reader long-polls; a sender sends; time until /sync returns.
    let since = String((await json(await fetch(`${url}/_matrix/client/v3/sync?timeout=0`, { headers: auth(reader.access_token) }))).next_batch);
    const samples: number[] = [];
    await profiled('client_api-wake', async () => {
      for (let i = 0; i < 200; i++) {
        const poll = () => fetch(`${url}/_matrix/client/v3/sync?timeout=30000&since=${encodeURIComponent(since)}`, { headers: auth(reader.access_token) }).then(json);
        const waiting = poll();
        await new Promise((r) => setTimeout(r, 5)); // let the long-poll park
        const sentAt = performance.now();
        const text = `wake ${i}`;
        const sending = send(senders[i % 10]!.access_token, text);
        // A sync woken by something else (unread counts of the previous message) does not
        // count: poll on until the message itself arrives.
        let body = await waiting;
        while (!JSON.stringify(body.rooms ?? {}).includes(JSON.stringify(text))) {
          since = String(body.next_batch);
          body = await poll();
        }
        samples.push(performance.now() - sentAt);
        await sending;
        since = String(body.next_batch);
      }
    });
    samples.sort((a, b) => a - b);
    return {
      messages: perSender * senders.length,
      concurrent_senders: senders.length,
      messages_per_s: round((perSender * senders.length) / seconds, 0),
      // Each send's time to its answer under that load (10 in flight at all times).
      send_latency_ms: { p50: round(percentile(latencies, 50)), p99: round(percentile(latencies, 99)), p999: round(percentile(latencies, 99.9)), max: round(latencies.at(-1) ?? NaN) },
      warm_up: { messages: WARM_UP_PER_SENDER * senders.length, messages_per_s: round((WARM_UP_PER_SENDER * senders.length) / warmSeconds, 0) },
      // Long enough for the JIT to settle, as the node's own figure comes after a warm-up.
      bare_node_http_req_per_s: round(await bareHttpBaseline(10_000), 0),
      cpu_ms_per_message: round((cpu.user + cpu.system) / 1000 / (perSender * senders.length), 3),
      main_thread_ms_per_message: round(elu.active / (perSender * senders.length), 3),
      main_thread_utilization: round(elu.utilization, 2),
      // Of that busy time, how much the thread actually ran on a core (the rest it waited).
      main_thread_cpu_ms_per_message: threadCpu0 !== undefined && threadCpu1 !== undefined ? round((threadCpu1 - threadCpu0) / (perSender * senders.length), 3) : null,
      load_avg_1m: round(load, 1),
      room_output_batches: batches,
      sync_wake_ms: { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), samples: samples.length },
    };
  } finally {
    await stopAndRemove(node);
  }
}
