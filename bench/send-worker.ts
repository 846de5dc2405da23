/** Load generator for the client API benchmark, in its own thread so that the client's own
 * work does not share the node's event loop. Sends `perSender` messages per token, all
 * senders concurrently, each back to back. */
import { parentPort, workerData } from 'node:worker_threads';

interface Job {
  url: string;
  roomId: string;
  tokens: string[];
  perSender: number;
}

const job = workerData as Job;
const started = performance.now();
let txn = 0;
await Promise.all(
  job.tokens.map(async (token, i) => {
    for (let k = 0; k < job.perSender; k++) {
      const res = await fetch(`${job.url}/_matrix/client/v3/rooms/${encodeURIComponent(job.roomId)}/send/m.room.message/w${txn++}`, {
        method: 'PUT',
        headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ msgtype: 'm.text', body: `s${i} m${k}` }),
      });
      if (!res.ok) throw new Error(`send failed: ${res.status} ${await res.text()}`);
      await res.arrayBuffer();
    }
  }),
);
parentPort!.postMessage({ seconds: (performance.now() - started) / 1000 });
