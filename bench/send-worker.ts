/** Load generator for the client API benchmark, in its own thread so that the client's own
 * work does not share the node's event loop. Sends `perSender` messages per token, all
 * senders concurrently, each back to back. It uses node:http with keep-alive rather than
 * fetch: fetch's web streams cost about four times the CPU per request, and on a 2-core
 * machine the load generator's CPU would cap the figure it is meant to measure. */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  url: string;
  roomId: string;
  tokens: string[];
  perSender: number;
  /** Makes this run's transaction ids its own: reused ones would only replay earlier answers. */
  runId: string;
}

const job = workerData as Job;
const base = new URL(job.url);
const agent = new http.Agent({ keepAlive: true, maxSockets: job.tokens.length });

function put(path: string, token: string, body: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        path,
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`send failed: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const started = performance.now();
let txn = 0;
/** Each send's time from request to answer, in ms. */
const latencies: number[] = [];
await Promise.all(
  job.tokens.map(async (token, i) => {
    for (let k = 0; k < job.perSender; k++) {
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(job.roomId)}/send/m.room.message/${job.runId}-${txn++}`;
      const sentAt = performance.now();
      await put(path, token, JSON.stringify({ msgtype: 'm.text', body: `s${i} m${k}` }));
      latencies.push(performance.now() - sentAt);
    }
  }),
);
parentPort!.postMessage({ seconds: (performance.now() - started) / 1000, latencies });
agent.destroy();
