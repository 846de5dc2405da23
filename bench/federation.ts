import { defaultConfig, type AxonConfig } from '../core/config.js';
import { createNode, type AxonNode } from '../core/node.js';
import { TEST_P2P, loopbackAddr, registerUser } from '../core/test/node.js';
import { tmpDir } from '../core/test/fixtures.js';
import { stopAndRemove } from './cleanup.js';
import { percentile, round } from './stats.js';

async function json(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`${res.status} ${JSON.stringify(body)}`);
  return body;
}

async function start(peers: string[] = []): Promise<{ node: AxonNode; url: string }> {
  const config = defaultConfig(tmpDir('axon-bench-fed-'), { http: { host: '127.0.0.1', port: 0 }, logLevel: 'silent', rateLimit: 0, p2p: { ...TEST_P2P, peers } } as Partial<AxonConfig>);
  const node = createNode(config);
  const { url } = await node.start();
  return { node, url };
}


/**
 * Two real nodes over libp2p on loopback: federation latency (a message sent on A → B's
 * waiting /sync returns it), p50 and p99; and the time for a user on B to join a room of
 * 1,000 members created on A (make_join, send_join with the whole state, storing it).
 */
export async function federation(): Promise<Record<string, unknown>> {
  const a = await start();
  const b = await start([loopbackAddr(a.node)]);
  try {
    const alice = await registerUser(a.url, 'alice');
    const bob = await registerUser(b.url, 'bob');
    const auth = (t: string) => ({ Authorization: `Bearer ${t}`, 'Content-Type': 'application/json' });
    const enc = encodeURIComponent;
    const { room_id: roomId } = await json(
      await fetch(`${a.url}/_matrix/client/v3/createRoom`, { method: 'POST', headers: auth(alice.access_token), body: JSON.stringify({ preset: 'public_chat' }) }),
    );
    await json(await fetch(`${b.url}/_matrix/client/v3/join/${enc(String(roomId))}?via=${a.node.serverName}`, { method: 'POST', headers: auth(bob.access_token), body: '{}' }));

    let since = String((await json(await fetch(`${b.url}/_matrix/client/v3/sync?timeout=0`, { headers: auth(bob.access_token) }))).next_batch);
    const samples: number[] = [];
    for (let i = 0; i < 200; i++) {
      const waiting = fetch(`${b.url}/_matrix/client/v3/sync?timeout=30000&since=${enc(since)}`, { headers: auth(bob.access_token) });
      await new Promise((r) => setTimeout(r, 5));
      const sentAt = performance.now();
      const sending = json(
        await fetch(`${a.url}/_matrix/client/v3/rooms/${enc(String(roomId))}/send/m.room.message/f${i}`, {
          method: 'PUT',
          headers: auth(alice.access_token),
          body: JSON.stringify({ msgtype: 'm.text', body: `ping ${i}` }),
        }),
      );
      let body = await json(await waiting);
      // A sync may return for something else first (receipts, typing): wait for the message.
      while (!JSON.stringify(body).includes(`ping ${i}`)) {
        body = await json(await fetch(`${b.url}/_matrix/client/v3/sync?timeout=30000&since=${enc(String(body.next_batch))}`, { headers: auth(bob.access_token) }));
      }
      samples.push(performance.now() - sentAt);
      await sending;
      since = String(body.next_batch);
    }
    samples.sort((x, y) => x - y);

    // A room of 1,000 members on A (local members made directly through the room server).
    const big = await a.node.roomserver.createRoom({ creator: alice.user_id, preset: 'public_chat' });
    for (let i = 0; i < 999; i++) {
      const u = `@member${i}:${a.node.serverName}`;
      await a.node.roomserver.sendEvent({ roomId: big.roomId, sender: u, type: 'm.room.member', stateKey: u, content: { membership: 'join' } });
    }
    const t0 = performance.now();
    await json(await fetch(`${b.url}/_matrix/client/v3/join/${enc(big.roomId)}?via=${a.node.serverName}`, { method: 'POST', headers: auth(bob.access_token), body: '{}' }));
    const joinMs = performance.now() - t0;
    const members = b.node.roomserver.joinedMembers(big.roomId).length;

    return {
      federation_latency_ms: { p50: round(percentile(samples, 50)), p99: round(percentile(samples, 99)), samples: samples.length },
      join_1000_member_room_ms: round(joinMs, 0),
      joined_members_seen_on_b: members,
    };
  } finally {
    await Promise.all([stopAndRemove(a.node), stopAndRemove(b.node)]);
  }
}
