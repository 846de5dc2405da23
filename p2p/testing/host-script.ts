/**
 * A P2P host in its own process, driven by JSON lines, for tests that need separate processes
 * or network namespaces (clean exit, mDNS). argv[2]: JSON of P2POptions without the seed.
 * Prints {event: ready|seen|fetched|status|error|stopped}; reads {cmd: fetch|status|stop}.
 * It never calls process.exit: after "stop" the process must end by itself.
 */
import '../polyfill.js';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createP2PHost } from '../host.js';

const o = JSON.parse(process.argv[2] ?? '{}') as { listen?: string[]; peers?: string[]; mdns?: boolean; relay?: boolean };
const host = createP2PHost({ seed: randomBytes(32), listen: o.listen ?? [], peers: o.peers ?? [], mdns: o.mdns ?? false, relay: o.relay ?? false });
const out = (v: unknown) => process.stdout.write(`${JSON.stringify(v)}\n`);

host.serve(async (_req, remote) => new Response(JSON.stringify({ server: host.serverName, from: remote.serverName })));
host.onPeerSeen((serverName) => out({ event: 'seen', serverName }));
await host.start();
out({ event: 'ready', serverName: host.serverName, peerId: host.peerId, multiaddrs: host.status().multiaddrs });

const rl = createInterface({ input: process.stdin });
rl.on('line', (line) => {
  const c = JSON.parse(line) as { cmd: string; to?: string };
  if (c.cmd === 'status') out({ event: 'status', status: host.status() });
  if (c.cmd === 'fetch') {
    host
      .fetch(c.to!, new Request(`http://${c.to}/_matrix/federation/v1/version`), { timeoutMs: 10_000 })
      .then(async (res) => out({ event: 'fetched', status: res.status, body: await res.json() }))
      .catch((e: unknown) => out({ event: 'error', message: (e as Error).message }));
  }
  if (c.cmd === 'stop') {
    rl.close();
    process.stdin.destroy();
    void host.stop().then(() => out({ event: 'stopped' }));
  }
});
