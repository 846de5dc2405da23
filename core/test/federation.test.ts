import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../crypto/index.js';
import { addEventSignature, verifyEventSignature } from '../events/index.js';
import type { AxonNode } from '../node.js';
import { tmpDir } from './fixtures.js';
import { TEST_P2P, loopbackAddr, until, clientCall, registerUser, startTestNode, type ResponseJson } from './node.js';

/** Real nodes federating over libp2p on 127.0.0.1, each with its own data folder; mDNS off,
 * bootstrap peers given. */

interface User {
  url: string;
  token: string;
  userId: string;
}



const call = (u: User, method: string, path: string, body?: unknown) => clientCall(u.url, method, path, u.token, body);
const enc = encodeURIComponent;

async function send(u: User, roomId: string, body: string): Promise<string> {
  const r = await call(u, 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/${Math.random().toString(36).slice(2)}`, { msgtype: 'm.text', body });
  expect(r.status).toBe(200);
  return r.body.event_id as string;
}

/** All message bodies of a room as `u` sees them, oldest first, paginating /messages back. */
async function history(u: User, roomId: string): Promise<string[]> {
  const bodies: string[] = [];
  let from: string | undefined;
  for (let i = 0; i < 50; i++) {
    const r = await call(u, 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=20${from ? `&from=${enc(from)}` : ''}`);
    expect(r.status).toBe(200);
    for (const ev of r.body.chunk as ResponseJson[]) if (ev.type === 'm.room.message') bodies.unshift(ev.content.body);
    if (!r.body.end) break;
    from = r.body.end;
  }
  return bodies;
}

async function membership(u: User, roomId: string, userId: string): Promise<string | undefined> {
  const r = await call(u, 'GET', `/rooms/${enc(roomId)}/state/m.room.member/${enc(userId)}`);
  return r.status === 200 ? (r.body.membership as string) : undefined;
}

describe('federation over libp2p', () => {
  let A: AxonNode, B: AxonNode, C: AxonNode;
  let alice: User, bob: User, carol: User;
  let bDir: string;
  let roomId: string;

  const user = async (node: AxonNode, url: string, name: string): Promise<User> => {
    const r = await registerUser(url, name);
    return { url, token: r.access_token, userId: r.user_id };
  };

  beforeAll(async () => {
    const a = await startTestNode();
    A = a.node;
    bDir = tmpDir('axon-fed-b-');
    const b = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(A)] } }, bDir);
    B = b.node;
    const c = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(B)] } });
    C = c.node;
    alice = await user(A, a.url, 'alice');
    bob = await user(B, b.url, 'bob');
    carol = await user(C, c.url, 'carol');
  });

  afterAll(async () => {
    await Promise.all([A?.stop(), B?.stop(), C?.stop()]);
  });

  it('invites across servers, joins, and exchanges messages in order both ways', async () => {
    const created = await call(alice, 'POST', '/createRoom', { preset: 'private_chat', name: 'Across' });
    expect(created.status).toBe(200);
    roomId = created.body.room_id;
    const inv = await call(alice, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: bob.userId });
    expect(inv.status, JSON.stringify(inv.body)).toBe(200);

    // Bob's server shows the invite with the room's stripped state.
    const invited = await until(async () => {
      const s = await call(bob, 'GET', '/sync?timeout=0');
      return s.body.rooms?.invite?.[roomId] as ResponseJson | undefined;
    }, 'the invite on B');
    const names = (invited.invite_state.events as ResponseJson[]).filter((e) => e.type === 'm.room.name').map((e) => e.content.name);
    expect(names).toEqual(['Across']);

    const joined = await call(bob, 'POST', `/join/${enc(roomId)}`, {});
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    await until(async () => (await membership(alice, roomId, bob.userId)) === 'join', 'bob joined, seen on A');

    for (let i = 0; i < 5; i++) {
      await send(alice, roomId, `a${i}`);
      await send(bob, roomId, `b${i}`);
    }
    const expected = ['a0', 'b0', 'a1', 'b1', 'a2', 'b2', 'a3', 'b3', 'a4', 'b4'];
    // Each side sees its peer's messages in the order they were sent.
    await until(async () => (await history(bob, roomId)).filter((b) => b.startsWith('a')).length === 5, 'alice messages on B');
    await until(async () => (await history(alice, roomId)).filter((b) => b.startsWith('b')).length === 5, 'bob messages on A');
    const onA = await history(alice, roomId);
    const onB = await history(bob, roomId);
    expect(onA.filter((b) => b.startsWith('a'))).toEqual(expected.filter((b) => b.startsWith('a')));
    expect(onB.filter((b) => b.startsWith('b'))).toEqual(expected.filter((b) => b.startsWith('b')));
    expect(onA.filter((b) => b.startsWith('b'))).toEqual(expected.filter((b) => b.startsWith('b')));
    expect(onB.filter((b) => b.startsWith('a'))).toEqual(expected.filter((b) => b.startsWith('a')));
  });

  it('stores its own messages unsigned and signs them as they leave, as signing at once would have', async () => {
    const eventId = await send(alice, roomId, 'signed on the way out');
    const stored = A.roomserver.eventsByIds([eventId])[0]!;
    expect(stored.json.signatures).toEqual({});
    // Served over federation (/event), and as B stored it from A's transaction.
    const served = (await B.federation.client.event(A.identity.serverName, eventId)).pdus[0]!;
    const onB = await until(async () => B.roomserver.eventsByIds([eventId])[0], 'the message on B');
    const key = A.identity.key;
    for (const pdu of [served, onB.json]) {
      expect(verifyEventSignature(pdu, A.identity.serverName, key.keyId, key.publicKey, stored.version)).toBe(true);
      expect(canonicalJson(pdu)).toBe(canonicalJson(addEventSignature(stored.json, A.identity.serverName, key, stored.version)));
    }
  });

  it('federates a room of version 1 too, whose signed events carry their id and origin', async () => {
    const created = await call(alice, 'POST', '/createRoom', { preset: 'private_chat', room_version: '1', invite: [bob.userId] });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const v1Room = created.body.room_id as string;
    await until(async () => (await call(bob, 'GET', '/sync?timeout=0')).body.rooms?.invite?.[v1Room], 'the v1 invite on B');
    // The join takes the room's state from A, every event of it stored unsigned there.
    const joined = await call(bob, 'POST', `/join/${enc(v1Room)}`, {});
    expect(joined.status, JSON.stringify(joined.body)).toBe(200);
    await send(alice, v1Room, 'v1 from A');
    await send(bob, v1Room, 'v1 from B');
    await until(async () => (await history(bob, v1Room)).includes('v1 from A'), 'A message on B');
    await until(async () => (await history(alice, v1Room)).includes('v1 from B'), 'B message on A');
  });

  it('looks up remote profiles, aliases and public room lists', async () => {
    expect((await call(bob, 'PUT', `/profile/${enc(bob.userId)}/displayname`, { displayname: 'Bob on B' })).status).toBe(200);
    const p = await call(alice, 'GET', `/profile/${enc(bob.userId)}`);
    expect(p.status).toBe(200);
    expect(p.body.displayname).toBe('Bob on B');
    expect((await call(alice, 'GET', `/profile/${enc(`@nobody:${B.serverName}`)}`)).status).toBe(404);

    const lobby = await call(alice, 'POST', '/createRoom', { preset: 'public_chat', visibility: 'public', room_alias_name: 'lobby', name: 'Lobby' });
    expect(lobby.status).toBe(200);
    const list = await call(bob, 'GET', `/publicRooms?server=${A.serverName}`);
    expect(list.status).toBe(200);
    expect((list.body.chunk as ResponseJson[]).map((r) => r.name)).toContain('Lobby');
    const viaAlias = await call(bob, 'POST', `/join/${enc(`#lobby:${A.serverName}`)}`, {});
    expect(viaAlias.status, JSON.stringify(viaAlias.body)).toBe(200);
    expect(viaAlias.body.room_id).toBe(lobby.body.room_id);
    await until(async () => (await membership(alice, lobby.body.room_id, bob.userId)) === 'join', 'bob in the lobby, seen on A');
  });

  it('carries presence', async () => {
    const set = await call(alice, 'PUT', `/presence/${enc(alice.userId)}/status`, { presence: 'unavailable', status_msg: 'in the garden' });
    expect(set.status).toBe(200);
    await until(async () => {
      const s = await call(bob, 'GET', '/sync?timeout=0');
      const ev = ((s.body.presence?.events ?? []) as ResponseJson[]).find((e) => e.sender === alice.userId);
      return ev?.content.presence === 'unavailable' && ev.content.status_msg === 'in the garden';
    }, 'alice presence on B');
    const r = await call(bob, 'GET', `/presence/${enc(alice.userId)}/status`);
    expect(r.body).toMatchObject({ presence: 'unavailable', status_msg: 'in the garden' });
  });

  it('carries typing and read receipts', async () => {
    const t = await call(alice, 'PUT', `/rooms/${enc(roomId)}/typing/${enc(alice.userId)}`, { typing: true, timeout: 20_000 });
    expect(t.status).toBe(200);
    await until(async () => {
      const s = await call(bob, 'GET', '/sync?timeout=0');
      const eph = (s.body.rooms?.join?.[roomId]?.ephemeral?.events ?? []) as ResponseJson[];
      return eph.some((e) => e.type === 'm.typing' && (e.content.user_ids as string[]).includes(alice.userId));
    }, 'alice typing on B');

    const last = await send(bob, roomId, 'read me');
    await until(async () => (await history(alice, roomId)).includes('read me'), 'message on A');
    const rr = await call(alice, 'POST', `/rooms/${enc(roomId)}/receipt/m.read/${enc(last)}`, {});
    expect(rr.status).toBe(200);
    await until(async () => {
      const s = await call(bob, 'GET', '/sync?timeout=0');
      const eph = (s.body.rooms?.join?.[roomId]?.ephemeral?.events ?? []) as ResponseJson[];
      return eph.some((e) => e.type === 'm.receipt' && e.content[last]?.['m.read']?.[alice.userId]);
    }, 'alice receipt on B');
  });

  it('lets a third server join through the second and read the earlier history (backfill)', async () => {
    const inv = await call(bob, 'POST', `/rooms/${enc(roomId)}/invite`, { user_id: carol.userId });
    expect(inv.status, JSON.stringify(inv.body)).toBe(200);
    await until(async () => (await call(carol, 'GET', '/sync?timeout=0')).body.rooms?.invite?.[roomId], 'the invite on C');
    const j = await call(carol, 'POST', `/join/${enc(roomId)}`, {});
    expect(j.status, JSON.stringify(j.body)).toBe(200);
    const onC = await history(carol, roomId);
    const onB = await history(bob, roomId);
    // Concurrent sends fork the DAG, so servers may order them differently; each sender's
    // own order holds everywhere.
    expect([...onC].sort()).toEqual([...onB].sort());
    for (const p of ['a', 'b']) expect(onC.filter((m) => /^[ab]\d$/.test(m) && m.startsWith(p))).toEqual([0, 1, 2, 3, 4].map((i) => `${p}${i}`));
    await until(async () => (await membership(alice, roomId, carol.userId)) === 'join', 'carol joined, seen on A');
  });

  it('delivers everything sent while a server was down once it is back', async () => {
    await B.stop();
    for (let i = 0; i < 30; i++) await send(alice, roomId, `offline ${i}`);
    const b = await startTestNode({ p2p: { ...TEST_P2P, peers: [loopbackAddr(A)] } }, bDir);
    B = b.node;
    bob = { ...bob, url: b.url };
    const want = Array.from({ length: 30 }, (_, i) => `offline ${i}`);
    await until(async () => (await history(bob, roomId)).filter((m) => m.startsWith('offline')).length === 30, '30 messages on B', 30_000);
    expect((await history(bob, roomId)).filter((m) => m.startsWith('offline'))).toEqual(want);
  });

  it('shows a leave on the other servers', async () => {
    const l = await call(bob, 'POST', `/rooms/${enc(roomId)}/leave`, {});
    expect(l.status).toBe(200);
    await until(async () => (await membership(alice, roomId, bob.userId)) === 'leave', 'bob left, seen on A');
    await until(async () => (await membership(carol, roomId, bob.userId)) === 'leave', 'bob left, seen on C');
  });
});
