import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonObject } from '../events/types.js';
import { HttpApp, type Requester } from '../http/index.js';
import type { LogMessage } from '../log/index.js';
import { NO_FETCHER, Roomserver } from '../roomserver/index.js';
import { serverNameKeys, testServer, testStorage } from '../test/fixtures.js';
import { ACCOUNT_DATA_TOPIC, type AccountDataOutput, type UserAPI } from '../userapi/api.js';
import { SyncApi, syncEndpoints } from './index.js';

/** An in-memory user API, so these tests can publish account-data changes themselves; the
 * node-level tests in core/test run the real user API. */
class MemoryUsers implements UserAPI {
  readonly data = new Map<string, JsonObject>();
  readonly filters = new Map<string, JsonObject>();
  authenticate(): Requester | undefined {
    return undefined;
  }
  accountExists(): boolean {
    return true;
  }
  requestOpenIdToken(): never {
    throw new Error('not used here');
  }
  openIdUser(): undefined {
    return undefined;
  }
  profile() {
    return undefined;
  }
  searchProfiles() {
    return [];
  }
  accountData(userId: string, roomId: string | undefined, type: string): JsonObject | undefined {
    return this.data.get(`${userId}|${roomId ?? ''}|${type}`);
  }
  filter(userId: string, filterId: string): JsonObject | undefined {
    return this.filters.get(`${userId}|${filterId}`);
  }
  deviceIds(): string[] {
    return [];
  }
  putAccountData(userId: string, roomId: string | undefined, type: string, content: JsonObject): void {
    this.data.set(`${userId}|${roomId ?? ''}|${type}`, content);
  }
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup() {
  const server = testServer();
  const { db, log, logger } = testStorage();
  const rs = new Roomserver({ db, log, logger, serverName: server.name, signingKey: server.key, keys: serverNameKeys, fetcher: NO_FETCHER });
  const users = new MemoryUsers();
  const adLog: LogMessage<AccountDataOutput>[] = [];
  const adTopic = log.topic<AccountDataOutput>(ACCOUNT_DATA_TOPIC, {
    durable: true,
    replay: { read: (after, limit) => adLog.filter((m) => m.offset > after).slice(0, limit), head: () => adLog.length },
  });
  const sync = new SyncApi({ db, log, logger, serverName: server.name, roomserver: rs, users });
  const alice = server.user('alice');
  const bob = server.user('bob');
  const carol = server.user('carol');
  const tokens: Record<string, Requester> = {
    alice: { userId: alice, deviceId: 'ADEV', isAdmin: false },
    alice2: { userId: alice, deviceId: 'ADEV2', isAdmin: false },
    bob: { userId: bob, deviceId: 'BDEV', isAdmin: false },
    carol: { userId: carol, deviceId: 'CDEV', isAdmin: false },
  };
  const app = new HttpApp({ logger, maxBody: 65536, authenticate: (t) => tokens[t] });
  app.add(...syncEndpoints(sync));
  const http = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  cleanups.push(async () => {
    http.closeAllConnections();
    await new Promise<void>((r) => http.close(() => r()));
    await rs.idle();
    await log.close();
    db.close();
  });
  const get = async (path: string, token: string) => {
    const res = await fetch(base + path, { headers: { Authorization: `Bearer ${token}` } });
    return { status: res.status, json: (await res.json()) as any };
  };
  const send = async (roomId: string, sender: string, body: string, extra: Partial<{ transaction: { deviceId: string; txnId: string } }> = {}) => {
    const r = await rs.sendEvent({ roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body }, ...extra });
    await sync.caughtUp();
    return r.eventId;
  };
  const member = async (roomId: string, sender: string, target: string, membership: string) => {
    await rs.sendEvent({ roomId, sender, type: 'm.room.member', stateKey: target, content: { membership } });
    await sync.caughtUp();
  };
  const publishAccountData = (v: AccountDataOutput, content: JsonObject) => {
    users.data.set(`${v.userId}|${v.roomId ?? ''}|${v.type}`, content);
    const offset = adLog.length + 1;
    adLog.push({ topic: ACCOUNT_DATA_TOPIC, offset, key: v.userId, value: v });
    adTopic.publish(v.userId, v, offset);
  };
  const reopen = async () => {
    await sync.close();
    return new SyncApi({ db, log, logger, serverName: server.name, roomserver: rs, users });
  };
  return { rs, sync, users, reopen, alice, bob, carol, get, send, member, publishAccountData };
}

const enc = encodeURIComponent;
const bodies = (events: any[]) => events.filter((e) => e.type === 'm.room.message').map((e) => e.content.body);

describe('sync API', () => {
  it('initial sync shows a joined room with state at the timeline start and a limited timeline', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat', name: 'Hello' });
    for (let i = 0; i < 15; i++) await t.send(roomId, t.alice, `m${i}`);
    const r = await t.get('/_matrix/client/v3/sync', 'alice');
    expect(r.status).toBe(200);
    const room = r.json.rooms.join[roomId];
    expect(bodies(room.timeline.events)).toEqual(['m5', 'm6', 'm7', 'm8', 'm9', 'm10', 'm11', 'm12', 'm13', 'm14']);
    expect(room.timeline.limited).toBe(true);
    const types = room.state.events.map((e: any) => e.type);
    expect(types).toEqual(expect.arrayContaining(['m.room.create', 'm.room.member', 'm.room.power_levels', 'm.room.name']));
    expect(room.summary['m.joined_member_count']).toBe(1);
    expect(room.unread_notifications).toEqual({ notification_count: 0, highlight_count: 0 });
    expect(r.json.next_batch).toMatch(/^s\d+(_\d+){3,}$/);
    expect(r.json.device_lists).toEqual({ changed: [], left: [] });
    expect(r.json.rooms.join[roomId].timeline.events[0].unsigned.age).toBeGreaterThanOrEqual(0);
  });

  it('incremental sync shows only the new events, and nothing for a quiet room', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.send(roomId, t.alice, 'old');
    const first = await t.get('/_matrix/client/v3/sync', 'alice');
    const quiet = await t.get(`/_matrix/client/v3/sync?since=${first.json.next_batch}`, 'alice');
    expect(quiet.json.rooms.join).toEqual({});
    await t.send(roomId, t.alice, 'new');
    const r = await t.get(`/_matrix/client/v3/sync?since=${first.json.next_batch}`, 'alice');
    const room = r.json.rooms.join[roomId];
    expect(bodies(room.timeline.events)).toEqual(['new']);
    expect(room.timeline.limited).toBe(false);
    expect(room.state.events).toEqual([]);
  });

  it('a long-poll returns as soon as a message is sent, and an unrelated user is not woken', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    const a0 = await t.get('/_matrix/client/v3/sync', 'alice');
    const c0 = await t.get('/_matrix/client/v3/sync', 'carol');
    const started = Date.now();
    const aliceWait = t.get(`/_matrix/client/v3/sync?timeout=20000&since=${a0.json.next_batch}`, 'alice');
    let carolDone = 0;
    const carolWait = t.get(`/_matrix/client/v3/sync?timeout=1500&since=${c0.json.next_batch}`, 'carol').then((r) => ((carolDone = Date.now()), r));
    await new Promise((r) => setTimeout(r, 200));
    expect(t.sync.notifier.waiting).toBe(2);
    await t.send(roomId, t.alice, 'wake up');
    const a = await aliceWait;
    expect(Date.now() - started).toBeLessThan(3000);
    expect(bodies(a.json.rooms.join[roomId].timeline.events)).toEqual(['wake up']);
    const c = await carolWait;
    expect(carolDone - started).toBeGreaterThanOrEqual(1400);
    expect(c.json.rooms.join).toEqual({});
    expect(c.json.next_batch).toMatch(/^s\d+(_\d+){3,}$/);
  });

  it('an invite appears in rooms.invite with stripped state, and a leave in rooms.leave', async () => {
    const t = await setup();
    const b0 = await t.get('/_matrix/client/v3/sync', 'bob');
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'private_chat', name: 'Secret', invite: [t.bob] });
    await t.sync.caughtUp();
    const b1 = await t.get(`/_matrix/client/v3/sync?timeout=5000&since=${b0.json.next_batch}`, 'bob');
    const inv = b1.json.rooms.invite[roomId];
    const evs = inv.invite_state.events;
    expect(evs.find((e: any) => e.type === 'm.room.name')?.content.name).toBe('Secret');
    expect(evs.find((e: any) => e.type === 'm.room.member' && e.state_key === t.bob)?.content.membership).toBe('invite');
    expect(b1.json.rooms.join).toEqual({});
    await t.member(roomId, t.bob, t.bob, 'join');
    const b2 = await t.get(`/_matrix/client/v3/sync?since=${b1.json.next_batch}`, 'bob');
    const joined = b2.json.rooms.join[roomId];
    expect([...joined.state.events, ...joined.timeline.events].some((e: any) => e.type === 'm.room.name')).toBe(true);
    expect(joined.timeline.events.at(-1).state_key).toBe(t.bob);
    await t.send(roomId, t.alice, 'before leave');
    await t.member(roomId, t.bob, t.bob, 'leave');
    await t.send(roomId, t.alice, 'after leave');
    const b3 = await t.get(`/_matrix/client/v3/sync?since=${b2.json.next_batch}`, 'bob');
    const left = b3.json.rooms.leave[roomId];
    expect(bodies(left.timeline.events)).toEqual(['before leave']);
    expect(left.timeline.events.at(-1).content.membership).toBe('leave');
    expect(b3.json.rooms.join).toEqual({});
    // An initial sync shows left rooms only with include_leave.
    expect((await t.get('/_matrix/client/v3/sync', 'bob')).json.rooms.leave).toEqual({});
    const withLeave = await t.get(`/_matrix/client/v3/sync?filter=${enc(JSON.stringify({ room: { include_leave: true } }))}`, 'bob');
    expect(Object.keys(withLeave.json.rooms.leave)).toEqual([roomId]);
  });

  it('limited timeline + prev_batch, then /messages backwards returns the rest without gaps or duplicates', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    for (let i = 0; i < 30; i++) await t.send(roomId, t.alice, `m${i}`);
    const r = await t.get(`/_matrix/client/v3/sync?filter=${enc(JSON.stringify({ room: { timeline: { limit: 5 } } }))}`, 'alice');
    const tl = r.json.rooms.join[roomId].timeline;
    expect(tl.limited).toBe(true);
    const seen: string[] = tl.events.map((e: any) => e.event_id);
    let from: string | undefined = tl.prev_batch;
    let pages = 0;
    while (from) {
      const page = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=7&from=${from}`, 'alice');
      expect(page.status).toBe(200);
      expect(page.json.start).toBe(from);
      seen.unshift(...page.json.chunk.map((e: any) => e.event_id).reverse());
      from = page.json.end;
      if (++pages > 20) throw new Error('no end');
    }
    expect(new Set(seen).size).toBe(seen.length);
    const all = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=f&limit=1000`, 'alice');
    expect(all.json.chunk.map((e: any) => e.event_id)).toEqual(seen);
    expect(all.json.chunk[0].type).toBe('m.room.create');
    expect(all.json.end).toBeUndefined();
  });

  it('/messages pages forward and backward over 100 messages', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    for (let i = 0; i < 100; i++) await t.send(roomId, t.alice, `m${i}`);
    const filter = enc(JSON.stringify({ types: ['m.room.message'] }));
    const walk = async (dir: 'b' | 'f') => {
      const out: string[] = [];
      let from: string | undefined;
      for (let n = 0; n < 50; n++) {
        const q = `dir=${dir}&limit=13&filter=${filter}${from ? `&from=${from}` : ''}`;
        const page = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?${q}`, 'alice');
        expect(page.status).toBe(200);
        out.push(...bodies(page.json.chunk));
        if (!page.json.end) return out;
        from = page.json.end;
      }
      throw new Error('no end');
    };
    const expected = Array.from({ length: 100 }, (_, i) => `m${i}`);
    expect(await walk('f')).toEqual(expected);
    expect(await walk('b')).toEqual([...expected].reverse());
    const capped = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=5000`, 'alice');
    expect(capped.json.chunk.length).toBeGreaterThan(100);
  });

  it('refuses malformed tokens and parameters', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.sync.caughtUp();
    for (const since of ['garbage', 's', 's1_x', 's-1_0', 'sabc']) {
      const r = await t.get(`/_matrix/client/v3/sync?since=${enc(since)}`, 'alice');
      expect(r.status).toBe(400);
      expect(r.json.errcode).toBe('M_INVALID_PARAM');
    }
    expect((await t.get(`/_matrix/client/v3/sync?timeout=abc`, 'alice')).json.errcode).toBe('M_INVALID_PARAM');
    expect((await t.get(`/_matrix/client/v3/sync?filter=nope`, 'alice')).json.errcode).toBe('M_NOT_FOUND');
    expect((await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=x`, 'alice')).json.errcode).toBe('M_INVALID_PARAM');
    expect((await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&from=zz`, 'alice')).json.errcode).toBe('M_INVALID_PARAM');
    expect((await t.get(`/_matrix/client/v3/rooms/notaroom/messages?dir=b`, 'alice')).json.errcode).toBe('M_INVALID_PARAM');
    expect((await t.get('/_matrix/client/v3/sync', 'nobody')).json.errcode).toBe('M_UNKNOWN_TOKEN');
  });

  it('/messages for a room the user was never in is M_FORBIDDEN; history visibility hides what came before a join', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.rs.sendEvent({ roomId, sender: t.alice, type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'joined' } });
    await t.send(roomId, t.alice, 'private past');
    const r = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b`, 'bob');
    expect(r.status).toBe(403);
    expect(r.json.errcode).toBe('M_FORBIDDEN');
    await t.member(roomId, t.bob, t.bob, 'join');
    await t.send(roomId, t.alice, 'visible');
    const m = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=50`, 'bob');
    expect(bodies(m.json.chunk)).toEqual(['visible']);
    // Under `shared` (before the change) bob sees history, and the change itself; not what came after it.
    expect(m.json.chunk.some((e: any) => e.type === 'm.room.member' && e.state_key === t.bob)).toBe(true);
    expect(m.json.chunk.some((e: any) => e.type === 'm.room.history_visibility')).toBe(true);
    const s = await t.get('/_matrix/client/v3/sync', 'bob');
    expect(bodies(s.json.rooms.join[roomId].timeline.events)).toEqual(['visible']);
  });

  it('echoes transaction_id only to the sending device', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.member(roomId, t.bob, t.bob, 'join');
    await t.send(roomId, t.alice, 'txn', { transaction: { deviceId: 'ADEV', txnId: 'T1' } });
    const find = async (token: string) => (await t.get('/_matrix/client/v3/sync', token)).json.rooms.join[roomId].timeline.events.find((e: any) => e.content.body === 'txn');
    expect((await find('alice')).unsigned.transaction_id).toBe('T1');
    expect((await find('alice2')).unsigned.transaction_id).toBeUndefined();
    expect((await find('bob')).unsigned.transaction_id).toBeUndefined();
  });

  it('shows a redacted event with redacted content and redacted_because', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    const target = await t.send(roomId, t.alice, 'oops');
    const s0 = await t.get('/_matrix/client/v3/sync', 'alice');
    const { eventId: redaction } = await t.rs.sendEvent({ roomId, sender: t.alice, type: 'm.room.redaction', content: { redacts: target }, redacts: target });
    await t.sync.caughtUp();
    const s = await t.get('/_matrix/client/v3/sync', 'alice');
    const ev = s.json.rooms.join[roomId].timeline.events.find((e: any) => e.event_id === target);
    expect(ev.content).toEqual({});
    expect(ev.unsigned.redacted_because.event_id).toBe(redaction);
    const inc = await t.get(`/_matrix/client/v3/sync?since=${s0.json.next_batch}`, 'alice');
    expect(inc.json.rooms.join[roomId].timeline.events.map((e: any) => e.event_id)).toEqual([redaction]);
  });

  it('state deltas in incremental sync and prev_content on state events', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat', name: 'One' });
    const s0 = await t.get('/_matrix/client/v3/sync', 'alice');
    await t.rs.sendEvent({ roomId, sender: t.alice, type: 'm.room.name', stateKey: '', content: { name: 'Two' } });
    for (let i = 0; i < 12; i++) await t.send(roomId, t.alice, `m${i}`);
    const s1 = await t.get(`/_matrix/client/v3/sync?since=${s0.json.next_batch}`, 'alice');
    const room = s1.json.rooms.join[roomId];
    expect(room.timeline.limited).toBe(true);
    expect(room.state.events.map((e: any) => [e.type, e.content.name])).toEqual([['m.room.name', 'Two']]);
    expect(room.state.events[0].unsigned.prev_content).toEqual({ name: 'One' });
    const full = await t.get(`/_matrix/client/v3/sync?since=${s0.json.next_batch}&full_state=true`, 'alice');
    expect(full.json.rooms.join[roomId].state.events.some((e: any) => e.type === 'm.room.create')).toBe(true);
  });

  it('lazy-loads members in /sync state', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.member(roomId, t.bob, t.bob, 'join');
    await t.member(roomId, t.carol, t.carol, 'join');
    for (let i = 0; i < 12; i++) await t.send(roomId, t.bob, `b${i}`);
    const f = enc(JSON.stringify({ room: { state: { lazy_load_members: true } } }));
    const r = await t.get(`/_matrix/client/v3/sync?filter=${f}`, 'alice');
    const members = r.json.rooms.join[roomId].state.events.filter((e: any) => e.type === 'm.room.member').map((e: any) => e.state_key).sort();
    expect(members).toEqual([t.alice, t.bob].sort());
  });

  it('serves /context and /relations', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await t.send(roomId, t.alice, `m${i}`));
    const ctx = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/context/${enc(ids[2]!)}?limit=4`, 'alice');
    expect(ctx.status).toBe(200);
    expect(ctx.json.event.content.body).toBe('m2');
    expect(bodies(ctx.json.events_before)).toEqual(['m1', 'm0']);
    expect(bodies(ctx.json.events_after)).toEqual(['m3', 'm4']);
    const back = await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/messages?dir=b&limit=2&from=${ctx.json.start}`, 'alice');
    expect(back.json.chunk.every((e: any) => e.type !== 'm.room.message')).toBe(true);
    expect((await t.get(`/_matrix/client/v3/rooms/${enc(roomId)}/context/${enc('$' + 'A'.repeat(43))}`, 'alice')).json.errcode).toBe('M_NOT_FOUND');

    const target = ids[0]!;
    for (const key of ['👍', '🎉', '👀']) {
      await t.rs.sendEvent({ roomId, sender: t.alice, type: 'm.reaction', content: { 'm.relates_to': { rel_type: 'm.annotation', event_id: target, key } } });
    }
    await t.rs.sendEvent({ roomId, sender: t.alice, type: 'm.room.message', content: { body: 'thread', msgtype: 'm.text', 'm.relates_to': { rel_type: 'm.thread', event_id: target } } });
    await t.sync.caughtUp();
    const base = `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(target)}`;
    const all = await t.get(base, 'alice');
    expect(all.json.chunk).toHaveLength(4);
    const ann = await t.get(`${base}/m.annotation/m.reaction?limit=2`, 'alice');
    expect(ann.json.chunk.map((e: any) => e.content['m.relates_to'].key)).toEqual(['👀', '🎉']);
    const next = await t.get(`${base}/m.annotation/m.reaction?limit=2&from=${ann.json.next_batch}`, 'alice');
    expect(next.json.chunk.map((e: any) => e.content['m.relates_to'].key)).toEqual(['👍']);
    expect(next.json.next_batch).toBeUndefined();
    expect(next.json.prev_batch).toBe(ann.json.next_batch);
    const fwd = await t.get(`${base}/m.thread?dir=f`, 'alice');
    expect(bodies(fwd.json.chunk)).toEqual(['thread']);
    expect((await t.get(base, 'bob')).json.errcode).toBe('M_FORBIDDEN');
  });

  it('delivers account data and wakes the user for it', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.sync.caughtUp();
    const s0 = await t.get('/_matrix/client/v3/sync', 'alice');
    const wait = t.get(`/_matrix/client/v3/sync?timeout=20000&since=${s0.json.next_batch}`, 'alice');
    await new Promise((r) => setTimeout(r, 100));
    t.publishAccountData({ userId: t.alice, type: 'm.push_rules' }, { global: {} });
    t.publishAccountData({ userId: t.alice, roomId, type: 'm.tag' }, { tags: { u: {} } });
    const s1 = await wait;
    await t.sync.caughtUp();
    const s2 = await t.get(`/_matrix/client/v3/sync?since=${s0.json.next_batch}`, 'alice');
    expect(s2.json.account_data.events).toEqual([{ type: 'm.push_rules', content: { global: {} } }]);
    expect(s2.json.rooms.join[roomId].account_data.events).toEqual([{ type: 'm.tag', content: { tags: { u: {} } } }]);
    expect(s1.json.next_batch).not.toBe(s0.json.next_batch);
    const bob = await t.get('/_matrix/client/v3/sync', 'bob');
    expect(bob.json.account_data.events).toEqual([]);
  });

  it('resumes from its stored offset after a restart without duplicating events', async () => {
    const t = await setup();
    const { roomId } = await t.rs.createRoom({ creator: t.alice, preset: 'public_chat' });
    await t.send(roomId, t.alice, 'one');
    const again = await t.reopen();
    await t.rs.sendEvent({ roomId, sender: t.alice, type: 'm.room.message', content: { msgtype: 'm.text', body: 'two' } });
    await again.caughtUp();
    const me = { userId: t.alice, deviceId: 'ADEV', isAdmin: false };
    const page = again.messages(me, roomId, { dir: 'f', limit: 100, filter: { types: ['m.room.message'] } });
    expect(bodies(page.chunk as any[])).toEqual(['one', 'two']);
    await again.close();
  });
});
