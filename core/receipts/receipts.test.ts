import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode, type ResponseJson } from '../test/node.js';

type Json = ResponseJson;
type User = { user_id: string; access_token: string };

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let carol: User;
let roomId: string;
let txn = 0;

const call = (method: string, path: string, token: string, body?: unknown) => clientCall(url, method, path, token, body);

async function sync(u: User, since?: string, timeout = 0): Promise<Json> {
  const q = new URLSearchParams({ timeout: String(timeout) });
  if (since) q.set('since', since);
  const r = await call('GET', `/sync?${q}`, u.access_token);
  expect(r.status).toBe(200);
  return r.body;
}

/** The merged m.receipt content of a sync for the room (undefined when none). */
function receiptsIn(body: Json, room = roomId): Json | undefined {
  return (body.rooms?.join?.[room]?.ephemeral?.events ?? []).find((e: Json) => e.type === 'm.receipt')?.content;
}

const r = encodeURIComponent;
const send = async (u: User, text: string): Promise<string> => {
  const res = await call('PUT', `/rooms/${r(roomId)}/send/m.room.message/t${++txn}`, u.access_token, { msgtype: 'm.text', body: text });
  expect(res.status).toBe(200);
  return res.body.event_id as string;
};
const receipt = (u: User, type: string, eventId: string, body: unknown = {}, room = roomId) =>
  call('POST', `/rooms/${r(room)}/receipt/${r(type)}/${r(eventId)}`, u.access_token, body);

/** Long-polls from `since` until a sync has an m.receipt for the room. */
async function nextReceipts(u: User, since: string): Promise<{ content: Json; since: string }> {
  const end = Date.now() + 5000;
  for (;;) {
    const b = await sync(u, since, Math.max(1, end - Date.now()));
    since = b.next_batch;
    const c = receiptsIn(b);
    if (c) return { content: c, since };
    if (Date.now() >= end) throw new Error('no m.receipt before the deadline');
  }
}

let e1: string;
let e2: string;

beforeAll(async () => {
  ({ node, url } = await startTestNode());
  alice = await registerUser(url, 'alice');
  bob = await registerUser(url, 'bob');
  carol = await registerUser(url, 'carol');
  roomId = (await call('POST', '/createRoom', alice.access_token, { preset: 'public_chat' })).body.room_id;
  expect((await call('POST', `/join/${r(roomId)}`, bob.access_token, {})).status).toBe(200);
  e1 = await send(alice, 'one');
  e2 = await send(alice, 'two');
});
afterAll(async () => {
  await node?.stop();
});

describe('receipts over HTTP', () => {
  it('a long-poll wakes on a receipt, which other members see', async () => {
    const start = (await sync(alice)).next_batch as string;
    const waiting = sync(alice, start, 10_000);
    await new Promise((res) => setTimeout(res, 50));
    const t0 = Date.now();
    expect((await receipt(bob, 'm.read', e2)).status).toBe(200);
    const woke = await waiting;
    expect(Date.now() - t0).toBeLessThan(2000);
    const c = receiptsIn(woke)!;
    expect(Object.keys(c)).toEqual([e2]);
    expect(c[e2]['m.read'][bob.user_id].ts).toEqual(expect.any(Number));
    expect(c[e2]['m.read'][bob.user_id].thread_id).toBeUndefined();
    // Initial sync holds every current receipt; an incremental one with no change none.
    expect(receiptsIn(await sync(alice))?.[e2]['m.read'][bob.user_id]).toBeDefined();
    expect(receiptsIn(await sync(alice, woke.next_batch))).toBeUndefined();
  });

  it('a receipt for an older event does not move the marker back', async () => {
    const start = (await sync(alice)).next_batch as string;
    expect((await receipt(bob, 'm.read', e1)).status).toBe(200);
    expect(node.receipts.receipt(roomId, bob.user_id, 'm.read')?.eventId).toBe(e2);
    expect(receiptsIn(await sync(alice, start))).toBeUndefined();
    const c = receiptsIn(await sync(alice))!;
    expect(c[e1]).toBeUndefined();
    expect(c[e2]['m.read'][bob.user_id]).toBeDefined();
  });

  it('m.read.private is seen by its owner only', async () => {
    const aStart = (await sync(alice)).next_batch as string;
    const bStart = (await sync(bob)).next_batch as string;
    const e3 = await send(alice, 'three');
    expect((await receipt(bob, 'm.read.private', e3)).status).toBe(200);
    const own = await nextReceipts(bob, bStart);
    expect(own.content[e3]['m.read.private'][bob.user_id].ts).toEqual(expect.any(Number));
    await node.sync.caughtUp();
    expect(receiptsIn(await sync(alice, aStart))).toBeUndefined();
    expect(receiptsIn(await sync(alice))?.[e3]).toBeUndefined();
    expect(receiptsIn(await sync(bob))?.[e3]['m.read.private'][bob.user_id]).toBeDefined();
  });

  it('threaded receipts keep their thread id and move per thread', async () => {
    const start = (await sync(alice)).next_batch as string;
    expect((await receipt(bob, 'm.read', e1, { thread_id: 'main' })).status).toBe(200);
    const c = (await nextReceipts(alice, start)).content;
    expect(c[e1]['m.read'][bob.user_id]).toEqual({ ts: expect.any(Number), thread_id: 'main' });
    expect(node.receipts.receipt(roomId, bob.user_id, 'm.read', 'main')?.eventId).toBe(e1);
    expect(node.receipts.receipt(roomId, bob.user_id, 'm.read')?.eventId).toBe(e2);
  });

  it('m.fully_read via the receipt endpoint and /read_markers', async () => {
    expect((await receipt(bob, 'm.fully_read', e1)).status).toBe(200);
    expect(node.users.accountData(bob.user_id, roomId, 'm.fully_read')).toEqual({ event_id: e1 });
    const e4 = await send(alice, 'four');
    const rm = await call('POST', `/rooms/${r(roomId)}/read_markers`, bob.access_token, { 'm.fully_read': e4, 'm.read': e4, 'm.read.private': e4 });
    expect(rm.status).toBe(200);
    expect(node.users.accountData(bob.user_id, roomId, 'm.fully_read')).toEqual({ event_id: e4 });
    expect(node.receipts.receipt(roomId, bob.user_id, 'm.read')?.eventId).toBe(e4);
    expect(node.receipts.receipt(roomId, bob.user_id, 'm.read.private')?.eventId).toBe(e4);
    await node.sync.caughtUp();
    expect(receiptsIn(await sync(alice))?.[e4]['m.read'][bob.user_id]).toBeDefined();
  });

  it('refuses bad input', async () => {
    const fails = async (p: Promise<{ status: number; body: Json }>, status: number, errcode: string) => {
      const res = await p;
      expect([res.status, res.body.errcode], JSON.stringify(res.body)).toEqual([status, errcode]);
    };
    await fails(receipt(bob, 'm.bogus', e1), 400, 'M_INVALID_PARAM');
    await fails(receipt(bob, 'm.read', `$unknown:${node.serverName}`), 404, 'M_NOT_FOUND');
    await fails(receipt(bob, 'm.read', 'not-an-event'), 400, 'M_INVALID_PARAM');
    await fails(receipt(carol, 'm.read', e1), 403, 'M_FORBIDDEN');
    await fails(receipt(bob, 'm.read', e1, { thread_id: '' }), 400, 'M_INVALID_PARAM');
    await fails(receipt(bob, 'm.read', e1, { thread_id: 7 }), 400, 'M_INVALID_PARAM');
    await fails(receipt(bob, 'm.read', e1, { thread_id: 'nope' }), 400, 'M_INVALID_PARAM');
    await fails(receipt(bob, 'm.fully_read', e1, { thread_id: 'main' }), 400, 'M_INVALID_PARAM');
    await fails(receipt(bob, 'm.read', e1, {}, `!nope:${node.serverName}`), 404, 'M_NOT_FOUND');
    await fails(call('POST', `/rooms/${r(roomId)}/read_markers`, carol.access_token, { 'm.read': e1 }), 403, 'M_FORBIDDEN');
    await fails(call('POST', `/rooms/${r(roomId)}/read_markers`, bob.access_token, { 'm.read': `$unknown:${node.serverName}` }), 404, 'M_NOT_FOUND');
  });

  it('receipts persist across a restart, and old two-part tokens still parse', async () => {
    const dir = node.config.dataDir;
    await node.stop();
    ({ node, url } = await startTestNode({ dataDir: dir }));
    await node.sync.caughtUp();
    const body = await sync(alice);
    expect(body.next_batch).toMatch(/^s\d+(_\d+){3,}$/);
    const c = receiptsIn(body)!;
    expect(Object.values(c).some((e: Json) => e['m.read']?.[bob.user_id])).toBe(true);
    // A two-part token from before the EDU streams still works.
    const old = await call('GET', `/sync?since=s1_0&timeout=0`, alice.access_token);
    expect(old.status).toBe(200);
    expect(receiptsIn(old.body)).toBeDefined();
  });
});
