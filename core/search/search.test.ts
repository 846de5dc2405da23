import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { afterEach, describe, expect, it } from 'vitest';
import type { Db } from '../db/index.js';
import type { JsonObject } from '../events/types.js';
import { HttpApp } from '../http/index.js';
import type { Log } from '../log/index.js';
import { NO_FETCHER, Roomserver } from '../roomserver/index.js';
import { serverNameKeys, testServer, testStorage, tmpDir, type TestServer } from '../test/fixtures.js';
import { SearchApi, searchEndpoints } from './index.js';

interface Env {
  rs: Roomserver;
  search: SearchApi;
  db: Db;
  log: Log;
  dir: string;
  server: TestServer;
  base: string;
  alice: string;
  bob: string;
  carol: string;
  stop: () => Promise<void>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function start(dir = tmpDir(), server: TestServer = testServer()): Promise<Env> {
  const { db, log, logger } = testStorage(dir);
  const rs = new Roomserver({ db, log, logger, serverName: server.name, signingKey: server.key, keys: serverNameKeys, fetcher: NO_FETCHER });
  const search = new SearchApi({ db, log, logger, roomserver: rs });
  const [alice, bob, carol] = ['alice', 'bob', 'carol'].map((l) => server.user(l)) as [string, string, string];
  const tokens = new Map([
    ['ta', alice],
    ['tb', bob],
    ['tc', carol],
  ]);
  const app = new HttpApp({
    logger,
    maxBody: 64 * 1024,
    authenticate: (t) => {
      const userId = tokens.get(t);
      return userId ? { userId, deviceId: 'D', isAdmin: false } : undefined;
    },
  });
  app.add(...searchEndpoints(search));
  const http = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  let closed = false;
  const stop = async () => {
    if (closed) return;
    closed = true;
    await new Promise<void>((r) => http.close(() => r()));
    await search.close();
    await log.close();
    db.close();
  };
  cleanups.push(stop);
  return { rs, search, db, log, dir, server, base, alice, bob, carol, stop };
}

async function post(env: Env, token: string, body: unknown, nextBatch?: string): Promise<{ status: number; json: JsonObject }> {
  await env.search.caughtUp();
  const q = nextBatch !== undefined ? `?next_batch=${encodeURIComponent(nextBatch)}` : '';
  const res = await fetch(`${env.base}/_matrix/client/v3/search${q}`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, json: (await res.json()) as JsonObject };
}

interface RoomEventsOut {
  count: number;
  highlights: string[];
  results: Array<{ rank: number; result: JsonObject; context?: { events_before: JsonObject[]; events_after: JsonObject[]; profile_info?: JsonObject } }>;
  state?: Record<string, JsonObject[]>;
  groups?: Record<string, Record<string, { results: string[]; order: number; next_batch?: string }>>;
  next_batch?: string;
}

async function search(env: Env, token: string, criteria: JsonObject, nextBatch?: string): Promise<RoomEventsOut> {
  const r = await post(env, token, { search_categories: { room_events: criteria } }, nextBatch);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return (r.json.search_categories as JsonObject).room_events as unknown as RoomEventsOut;
}

const bodies = (r: RoomEventsOut) => r.results.map((x) => (x.result.content as JsonObject).body);

async function say(env: Env, roomId: string, sender: string, body: string): Promise<string> {
  return (await env.rs.sendEvent({ roomId, sender, type: 'm.room.message', content: { msgtype: 'm.text', body } })).eventId;
}

/** alice and bob share a public room; carol has a private room of her own. */
async function rooms(env: Env) {
  const shared = (await env.rs.createRoom({ creator: env.alice, preset: 'public_chat', name: 'Martian council', topic: 'Plans for the red planet' })).roomId;
  await env.rs.sendEvent({ roomId: shared, sender: env.bob, type: 'm.room.member', stateKey: env.bob, content: { membership: 'join', displayname: 'Bobby' } });
  const second = (await env.rs.createRoom({ creator: env.alice, preset: 'public_chat', name: 'Kitchen' })).roomId;
  await env.rs.sendEvent({ roomId: second, sender: env.bob, type: 'm.room.member', stateKey: env.bob, content: { membership: 'join' } });
  const secret = (await env.rs.createRoom({ creator: env.carol, preset: 'private_chat', name: 'Carol only' })).roomId;
  return { shared, second, secret };
}

describe('POST /search', () => {
  it('finds terms in message bodies, room names and topics, with highlights and client events', async () => {
    const env = await start();
    const { shared } = await rooms(env);
    const msg = await say(env, shared, env.alice, 'The martians are coming tomorrow');
    await say(env, shared, env.bob, 'nothing to see here');
    // 'martian' is a prefix of 'martians'
    const r = await search(env, 'tb', { search_term: 'Martian' });
    expect(r.highlights).toEqual(['martian']);
    const types = r.results.map((x) => x.result.type).sort();
    expect(types).toEqual(['m.room.message', 'm.room.name']);
    const m = r.results.find((x) => x.result.event_id === msg)!;
    expect(m.result).toMatchObject({ room_id: shared, sender: env.alice, type: 'm.room.message', content: { body: 'The martians are coming tomorrow' } });
    expect(typeof m.result.origin_server_ts).toBe('number');
    expect(typeof m.rank).toBe('number');
    expect(r.count).toBe(2);

    const topic = await search(env, 'tb', { search_term: 'red planet' });
    expect(topic.results.map((x) => x.result.type)).toEqual(['m.room.topic']);
    expect(topic.highlights).toEqual(['red', 'planet']);
    // keys restrict which fields are searched; all words must match
    expect((await search(env, 'tb', { search_term: 'martians', keys: ['content.body'] })).results).toHaveLength(1);
    expect((await search(env, 'tb', { search_term: 'martians', keys: ['content.topic'] })).results).toHaveLength(0);
    expect((await search(env, 'tb', { search_term: 'martians zebra' })).results).toHaveLength(0);
    // prefix match and case folding
    expect(bodies(await search(env, 'tb', { search_term: 'TOMOR', keys: ['content.body'] }))).toEqual(['The martians are coming tomorrow']);
  });

  it('orders by rank or by recency', async () => {
    const env = await start();
    const { shared } = await rooms(env);
    await say(env, shared, env.alice, 'apple pie with a long tail of other words that dilute the apple match score quite a lot');
    await say(env, shared, env.alice, 'apple apple apple');
    await say(env, shared, env.alice, 'an apple');
    const recent = await search(env, 'ta', { search_term: 'apple', order_by: 'recent' });
    expect(bodies(recent)).toEqual(['an apple', 'apple apple apple', 'apple pie with a long tail of other words that dilute the apple match score quite a lot']);
    const ranked = await search(env, 'ta', { search_term: 'apple' });
    expect(bodies(ranked)[0]).toBe('apple apple apple');
    expect(bodies(ranked)[2]).toMatch(/^apple pie/);
    const ranks = ranked.results.map((x) => x.rank);
    expect([...ranks].sort((a, b) => b - a)).toEqual(ranks);
  });

  it('filters by room, sender and type', async () => {
    const env = await start();
    const { shared, second } = await rooms(env);
    await say(env, shared, env.alice, 'pizza from alice');
    await say(env, shared, env.bob, 'pizza from bob');
    await say(env, second, env.bob, 'pizza in the kitchen');
    expect(bodies(await search(env, 'ta', { search_term: 'pizza', order_by: 'recent', filter: { rooms: [second] } }))).toEqual(['pizza in the kitchen']);
    expect(bodies(await search(env, 'ta', { search_term: 'pizza', order_by: 'recent', filter: { not_rooms: [second] } }))).toEqual(['pizza from bob', 'pizza from alice']);
    expect(bodies(await search(env, 'ta', { search_term: 'pizza', order_by: 'recent', filter: { senders: [env.bob] } }))).toEqual(['pizza in the kitchen', 'pizza from bob']);
    expect(bodies(await search(env, 'ta', { search_term: 'pizza', order_by: 'recent', filter: { not_senders: [env.bob] } }))).toEqual(['pizza from alice']);
    expect(await search(env, 'ta', { search_term: 'kitchen', filter: { types: ['m.room.n*'] } })).toMatchObject({ results: [{ result: { type: 'm.room.name' } }] });
    expect(bodies(await search(env, 'ta', { search_term: 'kitchen', filter: { not_types: ['m.room.name'] } }))).toEqual(['pizza in the kitchen']);
  });

  it('paginates with next_batch, in both orders, without duplicates or gaps', async () => {
    const env = await start();
    const { shared, second } = await rooms(env);
    const sent = new Set<string>();
    for (let i = 0; i < 13; i++) sent.add(await say(env, i % 2 ? shared : second, env.alice, `page word ${'x'.repeat(i)} number ${i}`));
    for (const order_by of ['recent', 'rank']) {
      const seen: string[] = [];
      let next: string | undefined;
      let pages = 0;
      do {
        const r = await search(env, 'ta', { search_term: 'page word', order_by, filter: { limit: 5 } }, next);
        expect(r.count).toBe(13);
        seen.push(...r.results.map((x) => x.result.event_id as string));
        next = r.next_batch;
        pages++;
      } while (next !== undefined);
      expect(pages).toBe(3);
      expect(seen).toHaveLength(13);
      expect(new Set(seen)).toEqual(sent);
    }
    // A token for one order is not accepted for the other; garbage is a 400.
    const first = await search(env, 'ta', { search_term: 'page', order_by: 'recent', filter: { limit: 5 } });
    const wrongOrder = await post(env, 'ta', { search_categories: { room_events: { search_term: 'page', order_by: 'rank' } } }, first.next_batch);
    expect(wrongOrder.status).toBe(400);
    const garbage = await post(env, 'ta', { search_categories: { room_events: { search_term: 'page' } } }, 'not-a-token');
    expect(garbage).toMatchObject({ status: 400, json: { errcode: 'M_INVALID_PARAM' } });
  });

  it('groups results by room_id, and a group next_batch continues within that group', async () => {
    const env = await start();
    const { shared, second } = await rooms(env);
    const inShared = [await say(env, shared, env.alice, 'tea one'), await say(env, shared, env.alice, 'tea two'), await say(env, shared, env.alice, 'tea three')];
    const inSecond = [await say(env, second, env.alice, 'tea four'), await say(env, second, env.alice, 'tea five')];
    const all = await search(env, 'ta', { search_term: 'tea', order_by: 'recent', groupings: { group_by: [{ key: 'room_id' }] } });
    expect(all.groups!.room_id![shared]!.results).toEqual([...inShared].reverse());
    expect(all.groups!.room_id![second]!.results).toEqual([...inSecond].reverse());
    expect(all.groups!.room_id![second]!.order).toBe(1);
    expect(all.groups!.room_id![shared]!.order).toBe(2);
    expect(all.next_batch).toBeUndefined();

    const page = await search(env, 'ta', { search_term: 'tea', order_by: 'recent', filter: { limit: 3 }, groupings: { group_by: [{ key: 'room_id' }] } });
    expect(page.groups!.room_id![shared]!.results).toEqual([inShared[2]]);
    const rest = await search(env, 'ta', { search_term: 'tea', order_by: 'recent', filter: { limit: 3 } }, page.groups!.room_id![shared]!.next_batch);
    expect(rest.results.map((x) => x.result.event_id)).toEqual([inShared[1], inShared[0]]);
    const bySender = await search(env, 'ta', { search_term: 'tea', groupings: { group_by: [{ key: 'sender' }] } });
    expect(bySender.groups!.sender![env.alice]!.results).toHaveLength(5);
  });

  it('never searches rooms the user is not joined to, and respects history visibility', async () => {
    const env = await start();
    const { shared, secret } = await rooms(env);
    await say(env, secret, env.carol, 'confidential plans');
    await say(env, shared, env.alice, 'public plans');
    expect(bodies(await search(env, 'ta', { search_term: 'plans', keys: ['content.body'] }))).toEqual(['public plans']);
    // Naming the room explicitly does not help.
    expect((await search(env, 'ta', { search_term: 'confidential', filter: { rooms: [secret] } })).results).toEqual([]);
    expect(bodies(await search(env, 'tc', { search_term: 'plans', keys: ['content.body'] }))).toEqual(['confidential plans']);

    // Once bob leaves, the shared room is no longer searched for him.
    await env.rs.sendEvent({ roomId: shared, sender: env.bob, type: 'm.room.member', stateKey: env.bob, content: { membership: 'leave' } });
    expect((await search(env, 'tb', { search_term: 'plans' })).results).toEqual([]);

    // With joined-only visibility, a newcomer does not see what was said before they joined.
    await env.rs.sendEvent({ roomId: secret, sender: env.carol, type: 'm.room.history_visibility', stateKey: '', content: { history_visibility: 'joined' } });
    await say(env, secret, env.carol, 'early plans');
    await env.rs.sendEvent({ roomId: secret, sender: env.carol, type: 'm.room.member', stateKey: env.alice, content: { membership: 'invite' } });
    await env.rs.sendEvent({ roomId: secret, sender: env.alice, type: 'm.room.member', stateKey: env.alice, content: { membership: 'join' } });
    await say(env, secret, env.carol, 'late plans');
    // What was said under 'shared' stays visible to her; 'early plans' (under 'joined') does not.
    expect(bodies(await search(env, 'ta', { search_term: 'plans', keys: ['content.body'], filter: { rooms: [secret] }, order_by: 'recent' }))).toEqual([
      'late plans',
      'confidential plans',
    ]);
  });

  it('drops a redacted message from the index', async () => {
    const env = await start();
    const { shared } = await rooms(env);
    const oops = await say(env, shared, env.alice, 'my password is hunter2');
    const ctx = await say(env, shared, env.alice, 'hunter2 again');
    expect((await search(env, 'ta', { search_term: 'hunter2' })).results).toHaveLength(2);
    await env.rs.sendEvent({ roomId: shared, sender: env.alice, type: 'm.room.redaction', content: { redacts: oops }, redacts: oops });
    const r = await search(env, 'ta', { search_term: 'hunter2', event_context: { before_limit: 5, after_limit: 0 } });
    expect(r.results.map((x) => x.result.event_id)).toEqual([ctx]);
    expect(r.count).toBe(1);
    // In context it appears redacted: no body, with the redaction in unsigned.
    const before = r.results[0]!.context!.events_before[0]!;
    expect(before.event_id).toBe(oops);
    expect(before.content).toEqual({});
    expect((before.unsigned as JsonObject).redacted_because).toMatchObject({ type: 'm.room.redaction', sender: env.alice });
  });

  it('returns event context, profiles and current state', async () => {
    const env = await start();
    const { shared } = await rooms(env);
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) ids.push(await say(env, shared, i % 2 ? env.bob : env.alice, i === 3 ? 'the needle' : `hay ${i}`));
    const r = await search(env, 'ta', {
      search_term: 'needle',
      event_context: { before_limit: 2, after_limit: 5, include_profile: true },
      include_state: true,
    });
    expect(r.results).toHaveLength(1);
    const c = r.results[0]!.context!;
    expect(c.events_before.map((e) => e.event_id)).toEqual([ids[2], ids[1]]);
    expect(c.events_after.map((e) => e.event_id)).toEqual([ids[4], ids[5]]);
    expect(c.profile_info).toMatchObject({ [env.bob]: { displayname: 'Bobby' } });
    const state = r.state![shared]!;
    expect(state.find((e) => e.type === 'm.room.name')).toMatchObject({ content: { name: 'Martian council' }, state_key: '' });
    expect(state.some((e) => e.type === 'm.room.member' && e.state_key === env.bob)).toBe(true);
    // Default limits: 5 either side.
    const d = await search(env, 'ta', { search_term: 'needle', event_context: {} });
    expect(d.results[0]!.context!.events_before).toHaveLength(5);
  });

  it('treats quotes, stars, parentheses and FTS5 operators as plain text', async () => {
    const env = await start();
    const { shared } = await rooms(env);
    await say(env, shared, env.alice, 'he said "hello" (loudly) NEAR the door* OR not');
    for (const term of ['"', '"hello', 'hello"', '*', 'hel*', '(loudly', 'NEAR(', 'OR', 'AND NOT', '-door', 'a:b', '^x', '"""', '', '   ', '\u0000', 'body:hello']) {
      const r = await post(env, 'ta', { search_categories: { room_events: { search_term: term } } });
      expect(r.status, `${JSON.stringify(term)}: ${JSON.stringify(r.json)}`).toBe(200);
    }
    expect(bodies(await search(env, 'ta', { search_term: '"hello" (loudly)' }))).toHaveLength(1);
    expect(bodies(await search(env, 'ta', { search_term: 'NEAR door*' }))).toHaveLength(1);
  });

  it('rejects malformed requests with 400', async () => {
    const env = await start();
    await rooms(env);
    const cases: unknown[] = [
      {},
      { search_categories: { room_events: {} } },
      { search_categories: { room_events: { search_term: 5 } } },
      { search_categories: { room_events: { search_term: 'x', keys: ['content.nope'] } } },
      { search_categories: { room_events: { search_term: 'x', order_by: 'best' } } },
      { search_categories: { room_events: { search_term: 'x', filter: { rooms: 'x' } } } },
      { search_categories: { room_events: { search_term: 'x', filter: { limit: -1 } } } },
      { search_categories: { room_events: { search_term: 'x', event_context: { before_limit: 'a' } } } },
      { search_categories: { room_events: { search_term: 'x', groupings: { group_by: [{ key: 'type' }] } } } },
      '[1]',
      'not json',
    ];
    for (const body of cases) {
      const r = await post(env, 'ta', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(['M_BAD_JSON', 'M_MISSING_PARAM', 'M_NOT_JSON']).toContain(r.json.errcode);
    }
    const res = await fetch(`${env.base}/_matrix/client/v3/search`, { method: 'POST', body: '{}' });
    expect(res.status).toBe(401);
    // No category asked: an empty answer.
    expect(await post(env, 'ta', { search_categories: {} })).toEqual({ status: 200, json: { search_categories: {} } });
  });

  it('keeps its index across a restart without indexing anything twice', async () => {
    const dir = tmpDir();
    const first = (await start(dir));
    const { shared } = await rooms(first);
    await say(first, shared, first.alice, 'persistent walrus');
    await say(first, shared, first.alice, 'another walrus');
    await first.search.caughtUp();
    const rowsOf = (env: Env) => env.db.raw.prepare('SELECT pos, event_id, redacted FROM se_events ORDER BY pos').all();
    const offsetOf = (env: Env) => (env.db.raw.prepare('SELECT offset FROM se_offsets').get() as { offset: number }).offset;
    const before = rowsOf(first);
    const offset = offsetOf(first);
    expect(offset).toBeGreaterThan(0);
    await first.stop();

    const second = (await start(dir, first.server));
    await second.search.caughtUp();
    // Nothing was handled again: same rows at the same positions, same stored offset.
    expect(rowsOf(second)).toEqual(before);
    expect(offsetOf(second)).toBe(offset);
    expect(second.db.raw.prepare('SELECT count(*) AS n FROM se_fts').get()).toEqual(
      second.db.raw.prepare("SELECT count(*) AS n FROM se_events WHERE type IN ('m.room.message', 'm.room.name', 'm.room.topic')").get(),
    );
    expect(bodies(await search(second, 'ta', { search_term: 'walrus', order_by: 'recent' }))).toEqual(['another walrus', 'persistent walrus']);
    await say(second, shared, second.alice, 'new walrus');
    expect(bodies(await search(second, 'ta', { search_term: 'walrus', order_by: 'recent' }))).toEqual(['new walrus', 'another walrus', 'persistent walrus']);
  });
});
