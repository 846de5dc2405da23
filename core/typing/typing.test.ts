import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode, type ResponseJson } from '../test/node.js';
import { Log } from '../log/index.js';
import { TYPING_TOPIC, TypingServer, type TypingOutput } from './index.js';

type Json = ResponseJson;
type User = { user_id: string; access_token: string };

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let carol: User;
let roomId: string;

const call = (method: string, path: string, token: string, body?: unknown) => clientCall(url, method, path, token, body);

async function sync(u: User, since?: string, timeout = 0): Promise<Json> {
  const q = new URLSearchParams({ timeout: String(timeout) });
  if (since) q.set('since', since);
  const r = await call('GET', `/sync?${q}`, u.access_token);
  expect(r.status).toBe(200);
  return r.body;
}

function typingIn(body: Json, room: string): string[] | undefined {
  const ev = (body.rooms?.join?.[room]?.ephemeral?.events ?? []).find((e: Json) => e.type === 'm.typing');
  return ev?.content.user_ids;
}

/** Long-polls until a sync shows an m.typing for the room; returns its users and the token. */
async function nextTyping(u: User, since: string, deadlineMs = 5000): Promise<{ userIds: string[]; since: string }> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const b = await sync(u, since, Math.max(1, end - Date.now()));
    since = b.next_batch;
    const t = typingIn(b, roomId);
    if (t) return { userIds: t, since };
    if (Date.now() >= end) throw new Error('no m.typing before the deadline');
  }
}

const typing = (u: User, body: unknown, who = u.user_id, room = roomId) =>
  call('PUT', `/rooms/${encodeURIComponent(room)}/typing/${encodeURIComponent(who)}`, u.access_token, body);

beforeAll(async () => {
  ({ node, url } = await startTestNode());
  alice = await registerUser(url, 'alice');
  bob = await registerUser(url, 'bob');
  carol = await registerUser(url, 'carol');
  const r = await call('POST', '/createRoom', alice.access_token, { preset: 'public_chat' });
  roomId = r.body.room_id;
  expect((await call('POST', `/join/${encodeURIComponent(roomId)}`, bob.access_token, {})).status).toBe(200);
});
afterAll(async () => {
  await node?.stop();
});

describe('typing over HTTP', () => {
  it('shows typing to another member, and it expires on time', async () => {
    const start = (await sync(bob)).next_batch as string;
    const t0 = Date.now();
    expect((await typing(alice, { typing: true, timeout: 300 })).status).toBe(200);
    const seen = await nextTyping(bob, start);
    expect(seen.userIds).toEqual([alice.user_id]);
    // The same long-poll wakes again when the list expires.
    const gone = await nextTyping(bob, seen.since);
    expect(gone.userIds).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(250);
    expect(node.typing.typingUsers(roomId)).toEqual([]);
  });

  it('a long-poll wakes on typing, typing false clears it, initial sync shows a non-empty list', async () => {
    const start = (await sync(bob)).next_batch as string;
    const waiting = sync(bob, start, 10_000);
    await new Promise((r) => setTimeout(r, 50));
    const t0 = Date.now();
    expect((await typing(alice, { typing: true, timeout: 20_000 })).status).toBe(200);
    const woke = await waiting;
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(typingIn(woke, roomId)).toEqual([alice.user_id]);
    expect(typingIn(await sync(bob), roomId)).toEqual([alice.user_id]);
    // Nothing changed since: no m.typing in an incremental sync.
    expect(typingIn(await sync(bob, woke.next_batch), roomId)).toBeUndefined();
    expect((await typing(alice, { typing: false })).status).toBe(200);
    expect((await nextTyping(bob, woke.next_batch)).userIds).toEqual([]);
    expect(typingIn(await sync(bob), roomId)).toBeUndefined();
  });

  it('refuses bad input', async () => {
    const other = await typing(alice, { typing: true }, bob.user_id);
    expect([other.status, other.body.errcode]).toEqual([403, 'M_FORBIDDEN']);
    const notJoined = await typing(carol, { typing: true });
    expect([notJoined.status, notJoined.body.errcode]).toEqual([403, 'M_FORBIDDEN']);
    const noRoom = await typing(alice, { typing: true }, alice.user_id, '!nope:' + node.serverName);
    expect([noRoom.status, noRoom.body.errcode]).toEqual([404, 'M_NOT_FOUND']);
    const badBody = await typing(alice, { typing: 'yes' });
    expect([badBody.status, badBody.body.errcode]).toEqual([400, 'M_BAD_JSON']);
    const badTimeout = await typing(alice, { typing: true, timeout: -5 });
    expect([badTimeout.status, badTimeout.body.errcode]).toEqual([400, 'M_BAD_JSON']);
    const badUser = await typing(alice, { typing: true }, 'not-a-user');
    expect([badUser.status, badUser.body.errcode]).toEqual([400, 'M_INVALID_PARAM']);
  });
});

describe('TypingServer', () => {
  it('publishes every change of a room list, expiry included', async () => {
    const log = new Log();
    const rooms = { roomInfo: () => undefined, membership: () => undefined };
    const server = new TypingServer({ log, roomserver: rooms });
    const seen: TypingOutput[] = [];
    const c = log.consume<TypingOutput>(TYPING_TOPIC, { name: 't', fromOffset: 0, handle: (m) => void seen.push(...m.map((x) => x.value)) });
    server.setTyping('!r:x', '@a:x', true, 60);
    server.setTyping('!r:x', '@b:x', true, 10 * 60_000);
    server.setTyping('!r:x', '@a:x', true, 80); // extends: no publish
    expect(server.typingUsers('!r:x')).toEqual(['@a:x', '@b:x']);
    await new Promise((r) => setTimeout(r, 200));
    await c.drained();
    expect(seen).toEqual([
      { roomId: '!r:x', userIds: ['@a:x'] },
      { roomId: '!r:x', userIds: ['@a:x', '@b:x'] },
      { roomId: '!r:x', userIds: ['@b:x'] },
    ]);
    server.setTyping('!r:x', '@b:x', false);
    server.setTyping('!r:x', '@b:x', false); // already stopped: no publish
    await c.drained();
    expect(seen.at(-1)).toEqual({ roomId: '!r:x', userIds: [] });
    expect(seen).toHaveLength(4);
    server.close();
    await log.close();
  });
});
