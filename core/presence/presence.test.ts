import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { clientCall, registerUser, startTestNode, type ResponseJson } from '../test/node.js';
import { expectMatchesSpec, specMissing } from '../test/openapi.js';

type Json = ResponseJson;
type User = { user_id: string; access_token: string };

// Short timers: idle after 1.2 s without action, offline 1.8 s after the last sync.
const TIMERS = { idleMs: 1200, offlineMs: 1800, activeMs: 300 };

let node: AxonNode;
let url: string;
let alice: User;
let bob: User;
let carol: User;

const call = (method: string, path: string, token: string, body?: unknown) => clientCall(url, method, path, token, body);
const status = (u: User, of: User) => call('GET', `/presence/${encodeURIComponent(of.user_id)}/status`, u.access_token);
const put = (u: User, body: unknown, of: User = u) => call('PUT', `/presence/${encodeURIComponent(of.user_id)}/status`, u.access_token, body);

/** /sync without touching the caller's own presence. */
async function sync(u: User, since?: string, timeout = 0): Promise<Json> {
  const q = new URLSearchParams({ timeout: String(timeout), set_presence: 'offline' });
  if (since) q.set('since', since);
  const r = await call('GET', `/sync?${q}`, u.access_token);
  expect(r.status).toBe(200);
  return r.body;
}

const presenceOf = (body: Json, user: User): Json | undefined =>
  (body.presence.events as Json[]).filter((e) => e.sender === user.user_id).at(-1);

/** Long-polls from `since` until a sync carries `user`'s presence in `state`; returns that
 * sync (other changes, such as currently_active lapsing, may come first). */
async function nextPresence(u: User, since: string, user: User, state: string, deadlineMs = 5000): Promise<Json> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    const b = await sync(u, since, Math.max(1, end - Date.now()));
    if (presenceOf(b, user)?.content.presence === state || Date.now() >= end) return b;
    since = b.next_batch as string;
  }
}

/** Polls `of`'s presence as `viewer` sees it until it is `state` (fails after 10 s). */
async function until(viewer: User, of: User, state: string): Promise<void> {
  const end = Date.now() + 10_000;
  while ((await status(viewer, of)).body.presence !== state) {
    if (Date.now() > end) throw new Error(`${of.user_id} never ${state}`);
    await sleep(25);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

beforeAll(async () => {
  ({ node, url } = await startTestNode({ presenceTimers: TIMERS }));
  alice = await registerUser(url, 'alice');
  bob = await registerUser(url, 'bob');
  carol = await registerUser(url, 'carol');
  const room = await call('POST', '/createRoom', alice.access_token, { preset: 'public_chat' });
  const roomId = room.body.room_id as string;
  expect((await call('POST', `/join/${encodeURIComponent(roomId)}`, bob.access_token, {})).status).toBe(200);
  await node.sync.caughtUp();
});
afterAll(() => node.stop());

describe('presence', () => {
  it('is seen by room-mates and by the user, not by strangers', async () => {
    const bobSince = (await sync(bob)).next_batch as string;
    expect((await put(alice, { presence: 'online', status_msg: 'writing tests' })).status).toBe(200);
    const own = await status(alice, alice);
    expect(own.status).toBe(200);
    expect(own.body).toMatchObject({ presence: 'online', status_msg: 'writing tests', currently_active: true });
    expect(own.body.last_active_ago).toBeGreaterThanOrEqual(0);
    expect((await status(bob, alice)).body.presence).toBe('online');
    if (!specMissing) expectMatchesSpec('GET', '/presence/{userId}/status', 200, own.body);

    const stranger = await status(carol, alice);
    expect(stranger.status).toBe(403);
    expect(stranger.body.errcode).toBe('M_FORBIDDEN');

    // Bob's waiting incremental sync gets it; Carol's initial sync does not.
    const b = await nextPresence(bob, bobSince, alice, 'online');
    expect(presenceOf(b, alice)?.content).toMatchObject({ presence: 'online', status_msg: 'writing tests' });
    if (!specMissing) expectMatchesSpec('GET', '/sync', 200, b);
    expect(presenceOf(await sync(alice), alice)?.content.presence).toBe('online');
    expect(presenceOf(await sync(carol), alice)).toBeUndefined();
  });

  it('a waiting sync wakes on a room-mate\'s change, and the next one is empty of it', async () => {
    const since = (await sync(bob)).next_batch as string;
    const waiting = nextPresence(bob, since, alice, 'unavailable');
    await sleep(50);
    expect((await put(alice, { presence: 'unavailable' })).status).toBe(200);
    const b = await waiting;
    expect(presenceOf(b, alice)?.content).toEqual({ presence: 'unavailable', last_active_ago: expect.any(Number) });
    const again = await sync(bob, b.next_batch as string);
    expect(presenceOf(again, alice)).toBeUndefined();
  });

  it('goes unavailable when idle and offline without syncs, on the configured timers', async () => {
    const t0 = Date.now();
    expect((await put(alice, { presence: 'online' })).status).toBe(200);
    // Polls what Bob sees: each change comes no earlier than its timer (and not much later).
    const when = async (state: string): Promise<number> => {
      for (;;) {
        if ((await status(bob, alice)).body.presence === state) return Date.now() - t0;
        if (Date.now() - t0 > 10_000) throw new Error(`never ${state}`);
        await sleep(25);
      }
    };
    const idleAt = await when('unavailable');
    expect(idleAt).toBeGreaterThanOrEqual(TIMERS.idleMs - 5);
    const offAt = await when('offline');
    expect(offAt).toBeGreaterThanOrEqual(TIMERS.offlineMs - 5);
    expect(offAt).toBeLessThan(TIMERS.offlineMs + 3000);
    const gone = await status(bob, alice);
    expect(gone.body.last_active_ago).toBeGreaterThanOrEqual(TIMERS.offlineMs - 5);
    expect(gone.body.currently_active).toBeUndefined();
  });

  it('/sync sets online by default, not with set_presence=offline, and a sync in flight keeps the user online', async () => {
    expect((await status(bob, carol)).status).toBe(403);
    expect((await status(carol, carol)).body.presence).toBe('offline');
    await sync(carol);
    expect((await status(carol, carol)).body.presence).toBe('offline');
    const r = await call('GET', '/sync?timeout=0', carol.access_token);
    expect(r.status).toBe(200);
    expect((await status(carol, carol)).body.presence).toBe('online');
    // Once currently_active has lapsed (which Carol's own sync would show), a long poll
    // longer than the offline timer: still online while it waits.
    await sleep(TIMERS.activeMs + 100);
    const since = (await sync(carol)).next_batch as string;
    const poll = call('GET', `/sync?timeout=${TIMERS.offlineMs + 400}&since=${since}`, carol.access_token);
    await sleep(TIMERS.offlineMs + 200);
    expect((await status(carol, carol)).body.presence).not.toBe('offline');
    await poll;
    await until(carol, carol, 'offline');
  });

  it('sending a message makes an idle user online again', async () => {
    expect((await put(alice, { presence: 'online' })).status).toBe(200);
    await until(alice, alice, 'unavailable');
    const rooms = (await call('GET', '/joined_rooms', alice.access_token)).body.joined_rooms as string[];
    await call('PUT', `/rooms/${encodeURIComponent(rooms[0]!)}/send/m.room.message/p1`, alice.access_token, { msgtype: 'm.text', body: 'back' });
    await node.log.drain();
    const back = await status(alice, alice);
    expect(back.body).toMatchObject({ presence: 'online', currently_active: true });
  });

  it('a new room-mate gets the presence of the room\'s members when joining', async () => {
    const dave = await registerUser(url, 'dave');
    const before = await sync(dave);
    expect(presenceOf(before, alice)).toBeUndefined();
    const rooms = (await call('GET', '/joined_rooms', alice.access_token)).body.joined_rooms as string[];
    expect((await call('POST', `/join/${encodeURIComponent(rooms[0]!)}`, dave.access_token, {})).status).toBe(200);
    await node.sync.caughtUp();
    const after = await sync(dave, before.next_batch as string);
    expect(presenceOf(after, alice)?.content.presence).toEqual(expect.stringMatching(/^(online|unavailable|offline)$/));
    // Once seen, an unchanged presence is not sent again.
    expect(presenceOf(await sync(dave, after.next_batch as string), alice)).toBeUndefined();
  });

  it('refuses another user\'s presence, unknown states and bad bodies', async () => {
    const other = await put(alice, { presence: 'online' }, bob);
    expect(other.status).toBe(403);
    expect(other.body.errcode).toBe('M_FORBIDDEN');
    for (const body of [{ presence: 'busy' }, { presence: 'ONLINE' }, {}, { presence: 1 }, { presence: 'online', status_msg: 7 }, { presence: 'online', status_msg: 'x'.repeat(5000) }]) {
      const r = await put(alice, body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(['M_BAD_JSON', 'M_INVALID_PARAM']).toContain(r.body.errcode);
    }
    const bad = await call('GET', '/presence/not-a-user/status', alice.access_token);
    expect(bad.status).toBe(400);
    const syncBad = await call('GET', '/sync?set_presence=busy', alice.access_token);
    expect(syncBad.status).toBe(400);
  });
});

describe('presence turned off', () => {
  it('accepts writes, shows everyone offline and puts nothing in sync', async () => {
    const off = await startTestNode({ presence: false });
    try {
      const dave = await registerUser(off.url, 'dave');
      const put = await clientCall(off.url, 'PUT', `/presence/${encodeURIComponent(dave.user_id)}/status`, dave.access_token, { presence: 'online' });
      expect(put.status).toBe(200);
      const got = await clientCall(off.url, 'GET', `/presence/${encodeURIComponent(dave.user_id)}/status`, dave.access_token);
      expect(got.body).toEqual({ presence: 'offline' });
      const s = await clientCall(off.url, 'GET', '/sync', dave.access_token);
      expect(s.body.presence.events).toEqual([]);
    } finally {
      await off.node.stop();
    }
  });
});
