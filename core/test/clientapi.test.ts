import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { registerUser, startTestNode } from './node.js';
import { expectMatchesSpec, specMissing } from './openapi.js';

if (specMissing) console.warn(`clientapi.test: skipped, ${specMissing}`);

let node: AxonNode;
let url: string;

beforeAll(async () => {
  ({ node, url } = await startTestNode());
});
afterAll(async () => {
  await node?.stop();
});

type Json = Record<string, any>;
interface Reply {
  status: number;
  body: Json;
}

/** One request over real HTTP; the body is parsed as JSON (every reply of this API is JSON). */
async function call(method: string, path: string, opts: { token?: string; body?: unknown; query?: Record<string, string> } = {}): Promise<Reply> {
  const qs = opts.query ? `?${new URLSearchParams(opts.query).toString()}` : '';
  const full = path.startsWith('/_matrix') ? path : `/_matrix/client/v3${path}`;
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${url}${full}${qs}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
  const text = await res.text();
  let body: Json;
  try {
    body = JSON.parse(text) as Json;
  } catch {
    throw new Error(`${method} ${full}: ${res.status} non-JSON reply: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body };
}

/** Expects a 200 and a body matching the spec's schema for `specPath`. */
async function ok(method: string, specPath: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<Json> {
  const r = await call(method, path, opts);
  if (r.status !== 200) throw new Error(`${method} ${path}: expected 200, got ${r.status} ${JSON.stringify(r.body)}`);
  expectMatchesSpec(method, specPath, 200, r.body);
  return r.body;
}

/** Expects an error status with a standard error body. */
async function fails(status: number, errcode: string, method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<Json> {
  const r = await call(method, path, opts);
  expect({ status: r.status, errcode: r.body.errcode }, `${method} ${path} ${JSON.stringify(r.body)}`).toEqual({ status, errcode });
  expect(typeof r.body.error).toBe('string');
  return r.body;
}

const enc = encodeURIComponent;

if (specMissing) console.warn(`skipping the OpenAPI conformance tests: ${specMissing}`);

describe.skipIf(specMissing)('client-server API over HTTP, checked against the spec', () => {
  let alice: { user_id: string; access_token: string; device_id: string };
  let bob: { user_id: string; access_token: string; device_id: string };
  let carol: { user_id: string; access_token: string; device_id: string };
  const A = () => ({ token: alice.access_token });
  const B = () => ({ token: bob.access_token });
  const C = () => ({ token: carol.access_token });

  it('versions, register (UIA 401 then 200), login GET/POST, whoami, capabilities', async () => {
    await ok('GET', '/versions', '/_matrix/client/versions');

    const first = await call('POST', '/register', { body: { username: 'alice', password: 'alice password 1' } });
    expect(first.status).toBe(401);
    expectMatchesSpec('POST', '/register', 401, first.body);
    expect(first.body.flows.length).toBeGreaterThan(0);
    const reg = await ok('POST', '/register', '/register', {
      body: { username: 'alice', password: 'alice password 1', auth: { type: 'm.login.dummy', session: first.body.session } },
    });
    expect(reg.user_id).toMatch(/^@alice:/);
    alice = reg as typeof alice;
    bob = await registerUser(url, 'bob');
    carol = await registerUser(url, 'carol');

    const flows = await ok('GET', '/login', '/login');
    expect(flows.flows.map((f: Json) => f.type)).toContain('m.login.password');
    const login = await ok('POST', '/login', '/login', {
      body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'alice password 1' },
    });
    expect(login.user_id).toBe(alice.user_id);
    await fails(403, 'M_FORBIDDEN', 'POST', '/login', { body: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' }, password: 'wrong' } });

    const who = await ok('GET', '/account/whoami', '/account/whoami', A());
    expect(who).toMatchObject({ user_id: alice.user_id, device_id: alice.device_id });
    const caps = await ok('GET', '/capabilities', '/capabilities', A());
    expect(caps.capabilities['m.room_versions'].default).toBeTypeOf('string');
  });

  let roomId: string;
  let publicRoom: string;
  const alias = () => `#lobby:${alice.user_id.split(':').slice(1).join(':')}`;

  it('createRoom with presets, version, initial_state, power levels, invite, is_direct, name, topic, alias, visibility', async () => {
    const created = await ok('POST', '/createRoom', '/createRoom', {
      ...A(),
      body: {
        preset: 'private_chat',
        room_version: '10',
        name: 'Private',
        topic: 'Secrets',
        invite: [bob.user_id],
        is_direct: true,
        initial_state: [{ type: 'm.room.guest_access', state_key: '', content: { guest_access: 'forbidden' } }],
        power_level_content_override: { events_default: 10, users: { [alice.user_id]: 100, [bob.user_id]: 10 } },
      },
    });
    roomId = created.room_id;
    const create = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(roomId)}/state/m.room.create/`, A());
    expect(create.room_version).toBe('10');
    const pl = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(roomId)}/state/m.room.power_levels/`, A());
    expect(pl.events_default).toBe(10);
    const ga = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(roomId)}/state/m.room.guest_access`, A());
    expect(ga.guest_access).toBe('forbidden');
    // Not schema-checked: the spec's 200 schema is oneOf [object, state event], and a full
    // event is both, so no event could ever match it (anyOf is meant).
    const topicEvent = await call('GET', `/rooms/${enc(roomId)}/state/m.room.topic/`, { ...A(), query: { format: 'event' } });
    expect(topicEvent.status).toBe(200);
    expect(topicEvent.body).toMatchObject({ type: 'm.room.topic', state_key: '', room_id: roomId, content: { topic: 'Secrets' } });
    const bobInvite = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(roomId)}/state/m.room.member/${enc(bob.user_id)}`, A());
    expect(bobInvite).toMatchObject({ membership: 'invite', is_direct: true });

    for (const preset of ['public_chat', 'trusted_private_chat']) {
      const r = await ok('POST', '/createRoom', '/createRoom', { ...A(), body: { preset } });
      const jr = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(r.room_id)}/state/m.room.join_rules/`, A());
      expect(jr.join_rule).toBe(preset === 'public_chat' ? 'public' : 'invite');
    }

    const pub = await ok('POST', '/createRoom', '/createRoom', { ...A(), body: { visibility: 'public', room_alias_name: 'lobby', name: 'Lobby', topic: 'Hello' } });
    publicRoom = pub.room_id;
    const canonical = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(publicRoom)}/state/m.room.canonical_alias/`, A());
    expect(canonical.alias).toBe(alias());
  });

  it('join by id and by alias, invite, leave, kick, ban, unban, forget', async () => {
    const joined = await ok('POST', '/join/{roomIdOrAlias}', `/join/${enc(alias())}`, { ...B(), body: {} });
    expect(joined.room_id).toBe(publicRoom);
    await ok('POST', '/rooms/{roomId}/join', `/rooms/${enc(roomId)}/join`, { ...B(), body: {} });
    await ok('POST', '/rooms/{roomId}/join', `/rooms/${enc(publicRoom)}/join`, { ...C(), body: {} });
    // The 200 body of these membership endpoints is an empty object in the spec.
    await ok('POST', '/rooms/{roomId}/kick', `/rooms/${enc(publicRoom)}/kick`, { ...A(), body: { user_id: carol.user_id, reason: 'testing' } });
    const kicked = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(publicRoom)}/state/m.room.member/${enc(carol.user_id)}`, A());
    expect(kicked).toMatchObject({ membership: 'leave', reason: 'testing' });
    await ok('POST', '/rooms/{roomId}/ban', `/rooms/${enc(publicRoom)}/ban`, { ...A(), body: { user_id: carol.user_id } });
    await fails(403, 'M_FORBIDDEN', 'POST', `/join/${enc(publicRoom)}`, { ...C(), body: {} });
    await ok('POST', '/rooms/{roomId}/unban', `/rooms/${enc(publicRoom)}/unban`, { ...A(), body: { user_id: carol.user_id } });
    await ok('POST', '/join/{roomIdOrAlias}', `/join/${enc(publicRoom)}`, { ...C(), body: {} });
    await ok('POST', '/rooms/{roomId}/leave', `/rooms/${enc(publicRoom)}/leave`, { ...C(), body: {} });
    const leftRooms = async () => {
      await node.log.drain();
      const filter = JSON.stringify({ room: { include_leave: true } });
      const r = await call('GET', '/sync', { ...C(), query: { timeout: '0', filter } });
      expect(r.status).toBe(200);
      return Object.keys(r.body.rooms?.leave ?? {});
    };
    expect(await leftRooms()).toContain(publicRoom);
    await ok('POST', '/rooms/{roomId}/forget', `/rooms/${enc(publicRoom)}/forget`, { ...C(), body: {} });
    // A forgotten room is out of the user's sync, include_leave too.
    expect(await leftRooms()).not.toContain(publicRoom);
    await ok('POST', '/rooms/{roomId}/invite', `/rooms/${enc(publicRoom)}/invite`, { ...A(), body: { user_id: carol.user_id } });
    // A new membership brings it back.
    await node.log.drain();
    const afterInvite = await call('GET', '/sync', { ...C(), query: { timeout: '0' } });
    expect(Object.keys(afterInvite.body.rooms?.invite ?? {})).toContain(publicRoom);
    const invited = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(publicRoom)}/state/m.room.member/${enc(carol.user_id)}`, A());
    expect(invited.membership).toBe('invite');
    const jr = await ok('GET', '/joined_rooms', '/joined_rooms', B());
    expect(jr.joined_rooms.sort()).toEqual([roomId, publicRoom].sort());
  });

  it('knock in a room with join_rule knock', async () => {
    const r = await ok('POST', '/createRoom', '/createRoom', {
      ...A(),
      body: { room_version: '10', initial_state: [{ type: 'm.room.join_rules', state_key: '', content: { join_rule: 'knock' } }] },
    });
    const knocked = await ok('POST', '/knock/{roomIdOrAlias}', `/knock/${enc(r.room_id)}`, { ...C(), body: { reason: 'let me in' } });
    expect(knocked.room_id).toBe(r.room_id);
    const m = await ok('GET', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(r.room_id)}/state/m.room.member/${enc(carol.user_id)}`, A());
    expect(m).toMatchObject({ membership: 'knock', reason: 'let me in' });
    await ok('POST', '/rooms/{roomId}/invite', `/rooms/${enc(r.room_id)}/invite`, { ...A(), body: { user_id: carol.user_id } });
    await ok('POST', '/rooms/{roomId}/join', `/rooms/${enc(r.room_id)}/join`, { ...C(), body: {} });
  });

  let firstMessage: string;
  it('send (txnId idempotent), send state with and without key, redact', async () => {
    const sendPath = '/rooms/{roomId}/send/{eventType}/{txnId}';
    const a = await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.room.message/txn1`, { ...A(), body: { msgtype: 'm.text', body: 'hello' } });
    const again = await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.room.message/txn1`, { ...A(), body: { msgtype: 'm.text', body: 'hello' } });
    expect(again.event_id).toBe(a.event_id);
    firstMessage = a.event_id;
    // The same txnId from another user's device is a different transaction.
    const b = await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.room.message/txn1`, { ...B(), body: { msgtype: 'm.text', body: 'hi' } });
    expect(b.event_id).not.toBe(a.event_id);
    for (let i = 0; i < 5; i++) await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.room.message/m${i}`, { ...A(), body: { msgtype: 'm.text', body: `n${i}` } });

    const statePath = '/rooms/{roomId}/state/{eventType}/{stateKey}';
    const topic = await ok('PUT', statePath, `/rooms/${enc(roomId)}/state/m.room.topic`, { ...A(), body: { topic: 'New topic' } });
    expect(topic.event_id).toMatch(/^\$/);
    await ok('PUT', statePath, `/rooms/${enc(roomId)}/state/org.example.thing/key1`, { ...A(), body: { value: 1 } });
    const thing = await ok('GET', statePath, `/rooms/${enc(roomId)}/state/org.example.thing/key1`, A());
    expect(thing).toEqual({ value: 1 });
    // Bob has power 10 < state_default 50, so he may not change the topic.
    await fails(403, 'M_FORBIDDEN', 'PUT', `/rooms/${enc(roomId)}/state/m.room.topic/`, { ...B(), body: { topic: 'nope' } });

    const doomed = await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.room.message/doomed`, { ...A(), body: { msgtype: 'm.text', body: 'oops' } });
    const red = await ok('PUT', '/rooms/{roomId}/redact/{eventId}/{txnId}', `/rooms/${enc(roomId)}/redact/${enc(doomed.event_id)}/r1`, { ...A(), body: { reason: 'typo' } });
    expect(red.event_id).toMatch(/^\$/);
    const gone = await ok('GET', '/rooms/{roomId}/event/{eventId}', `/rooms/${enc(roomId)}/event/${enc(doomed.event_id)}`, A());
    expect(gone.content).toEqual({});
    expect(gone.unsigned?.redacted_because?.event_id).toBe(red.event_id);
  });

  it('members (filters), joined_members, state, event, context, messages both ways, relations', async () => {
    await ok('POST', '/rooms/{roomId}/invite', `/rooms/${enc(roomId)}/invite`, { ...A(), body: { user_id: carol.user_id } });
    const all = await ok('GET', '/rooms/{roomId}/members', `/rooms/${enc(roomId)}/members`, A());
    expect(all.chunk.map((e: Json) => e.state_key).sort()).toEqual([alice.user_id, bob.user_id, carol.user_id].sort());
    const invited = await ok('GET', '/rooms/{roomId}/members', `/rooms/${enc(roomId)}/members`, { ...A(), query: { membership: 'invite' } });
    expect(invited.chunk.map((e: Json) => e.state_key)).toEqual([carol.user_id]);
    const notInvited = await ok('GET', '/rooms/{roomId}/members', `/rooms/${enc(roomId)}/members`, { ...A(), query: { not_membership: 'invite' } });
    expect(notInvited.chunk.map((e: Json) => e.state_key).sort()).toEqual([alice.user_id, bob.user_id].sort());

    const jm = await ok('GET', '/rooms/{roomId}/joined_members', `/rooms/${enc(roomId)}/joined_members`, A());
    expect(Object.keys(jm.joined).sort()).toEqual([alice.user_id, bob.user_id].sort());

    const stateR = await call('GET', `/rooms/${enc(roomId)}/state`, A());
    expect(stateR.status).toBe(200);
    expectMatchesSpec('GET', '/rooms/{roomId}/state', 200, stateR.body);
    expect((stateR.body as unknown as Json[]).some((e) => e.type === 'm.room.create')).toBe(true);

    const ev = await ok('GET', '/rooms/{roomId}/event/{eventId}', `/rooms/${enc(roomId)}/event/${enc(firstMessage)}`, A());
    expect(ev.content.body).toBe('hello');

    const ctx = await ok('GET', '/rooms/{roomId}/context/{eventId}', `/rooms/${enc(roomId)}/context/${enc(firstMessage)}`, { ...A(), query: { limit: '4' } });
    expect(ctx.event.event_id).toBe(firstMessage);
    expect(ctx.events_after.length).toBeGreaterThan(0);

    const back = await ok('GET', '/rooms/{roomId}/messages', `/rooms/${enc(roomId)}/messages`, { ...A(), query: { dir: 'b', limit: '3' } });
    expect(back.chunk).toHaveLength(3);
    const older = await ok('GET', '/rooms/{roomId}/messages', `/rooms/${enc(roomId)}/messages`, { ...A(), query: { dir: 'b', limit: '3', from: back.end } });
    expect(older.chunk[0].origin_server_ts).toBeLessThanOrEqual(back.chunk[2].origin_server_ts);
    const fwd = await ok('GET', '/rooms/{roomId}/messages', `/rooms/${enc(roomId)}/messages`, { ...A(), query: { dir: 'f', limit: '100' } });
    expect(fwd.chunk[0].type).toBe('m.room.create');
    const filtered = await ok('GET', '/rooms/{roomId}/messages', `/rooms/${enc(roomId)}/messages`, {
      ...A(),
      query: { dir: 'b', limit: '50', filter: JSON.stringify({ types: ['m.room.message'] }) },
    });
    expect(filtered.chunk.every((e: Json) => e.type === 'm.room.message')).toBe(true);

    const sendPath = '/rooms/{roomId}/send/{eventType}/{txnId}';
    const reply = await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.room.message/thread1`, {
      ...A(),
      body: { msgtype: 'm.text', body: 'in thread', 'm.relates_to': { rel_type: 'm.thread', event_id: firstMessage } },
    });
    await ok('PUT', sendPath, `/rooms/${enc(roomId)}/send/m.reaction/react1`, {
      ...A(),
      body: { 'm.relates_to': { rel_type: 'm.annotation', event_id: firstMessage, key: '👍' } },
    });
    const rels = await ok('GET', '/rooms/{roomId}/relations/{eventId}', `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(firstMessage)}`, A());
    expect(rels.chunk).toHaveLength(2);
    const threads = await ok(
      'GET',
      '/rooms/{roomId}/relations/{eventId}/{relType}',
      `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(firstMessage)}/m.thread`,
      A(),
    );
    expect(threads.chunk.map((e: Json) => e.event_id)).toEqual([reply.event_id]);
    const typed = await ok(
      'GET',
      '/rooms/{roomId}/relations/{eventId}/{relType}/{eventType}',
      `/_matrix/client/v1/rooms/${enc(roomId)}/relations/${enc(firstMessage)}/m.annotation/m.reaction`,
      A(),
    );
    expect(typed.chunk).toHaveLength(1);
  });

  it('directory: aliases, room aliases, visibility, publicRooms GET/POST with filter and since', async () => {
    const server = alice.user_id.split(':').slice(1).join(':');
    const extra = `#extra:${server}`;
    // PUT and DELETE /directory/room answer `{}`: checked against their (empty object) schema.
    await ok('PUT', '/directory/room/{roomAlias}', `/directory/room/${enc(extra)}`, { ...A(), body: { room_id: roomId } });
    const got = await ok('GET', '/directory/room/{roomAlias}', `/directory/room/${enc(extra)}`, B());
    expect(got.room_id).toBe(roomId);
    expect(got.servers).toContain(server);
    const aliases = await ok('GET', '/rooms/{roomId}/aliases', `/rooms/${enc(roomId)}/aliases`, A());
    expect(aliases.aliases).toContain(extra);
    await ok('DELETE', '/directory/room/{roomAlias}', `/directory/room/${enc(extra)}`, A());
    await fails(404, 'M_NOT_FOUND', 'GET', `/directory/room/${enc(extra)}`, A());

    const vis = await ok('GET', '/directory/list/room/{roomId}', `/directory/list/room/${enc(publicRoom)}`);
    expect(vis.visibility).toBe('public');
    await ok('PUT', '/directory/list/room/{roomId}', `/directory/list/room/${enc(roomId)}`, { ...A(), body: { visibility: 'public' } });
    expect((await ok('GET', '/directory/list/room/{roomId}', `/directory/list/room/${enc(roomId)}`)).visibility).toBe('public');

    const list = await ok('GET', '/publicRooms', '/publicRooms');
    expect(list.chunk.map((r: Json) => r.room_id).sort()).toEqual([roomId, publicRoom].sort());
    const page1 = await ok('GET', '/publicRooms', '/publicRooms', { query: { limit: '1' } });
    expect(page1.chunk).toHaveLength(1);
    expect(page1.next_batch).toBeTypeOf('string');
    const page2 = await ok('GET', '/publicRooms', '/publicRooms', { query: { limit: '1', since: page1.next_batch } });
    expect(page2.chunk).toHaveLength(1);
    expect(page2.chunk[0].room_id).not.toBe(page1.chunk[0].room_id);
    const searched = await ok('POST', '/publicRooms', '/publicRooms', { ...A(), body: { filter: { generic_search_term: 'lobby' } } });
    expect(searched.chunk.map((r: Json) => r.room_id)).toEqual([publicRoom]);
    const pagedPost = await ok('POST', '/publicRooms', '/publicRooms', { ...A(), body: { limit: 1 } });
    const pagedPost2 = await ok('POST', '/publicRooms', '/publicRooms', { ...A(), body: { limit: 1, since: pagedPost.next_batch } });
    expect(pagedPost2.chunk[0].room_id).not.toBe(pagedPost.chunk[0].room_id);
    await ok('PUT', '/directory/list/room/{roomId}', `/directory/list/room/${enc(roomId)}`, { ...A(), body: { visibility: 'private' } });
  });

  it('profile, account data, tags, filters, devices', async () => {
    // PUT profile answers `{}`, matching its empty-object schema.
    await ok('PUT', '/profile/{userId}/{keyName}', `/profile/${enc(alice.user_id)}/displayname`, { ...A(), body: { displayname: 'Alice A.' } });
    const prof = await ok('GET', '/profile/{userId}', `/profile/${enc(alice.user_id)}`, B());
    expect(prof.displayname).toBe('Alice A.');
    const dn = await ok('GET', '/profile/{userId}/{keyName}', `/profile/${enc(alice.user_id)}/displayname`, B());
    expect(dn.displayname).toBe('Alice A.');

    await ok('PUT', '/user/{userId}/account_data/{type}', `/user/${enc(alice.user_id)}/account_data/org.example.pref`, { ...A(), body: { colour: 'blue' } });
    // GET account_data's 200 is the stored content, an arbitrary object.
    expect(await ok('GET', '/user/{userId}/account_data/{type}', `/user/${enc(alice.user_id)}/account_data/org.example.pref`, A())).toEqual({ colour: 'blue' });
    await ok('PUT', '/user/{userId}/rooms/{roomId}/account_data/{type}', `/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/account_data/org.example.r`, {
      ...A(),
      body: { x: 1 },
    });
    expect(await ok('GET', '/user/{userId}/rooms/{roomId}/account_data/{type}', `/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/account_data/org.example.r`, A())).toEqual({ x: 1 });

    await ok('PUT', '/user/{userId}/rooms/{roomId}/tags/{tag}', `/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/tags/m.favourite`, { ...A(), body: { order: 0.5 } });
    const tags = await ok('GET', '/user/{userId}/rooms/{roomId}/tags', `/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/tags`, A());
    expect(tags.tags).toEqual({ 'm.favourite': { order: 0.5 } });
    await ok('DELETE', '/user/{userId}/rooms/{roomId}/tags/{tag}', `/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/tags/m.favourite`, A());
    expect((await ok('GET', '/user/{userId}/rooms/{roomId}/tags', `/user/${enc(alice.user_id)}/rooms/${enc(roomId)}/tags`, A())).tags).toEqual({});

    const filter = { room: { timeline: { limit: 2 } }, presence: { not_types: ['*'] } };
    const f = await ok('POST', '/user/{userId}/filter', `/user/${enc(alice.user_id)}/filter`, { ...A(), body: filter });
    const back = await ok('GET', '/user/{userId}/filter/{filterId}', `/user/${enc(alice.user_id)}/filter/${enc(f.filter_id)}`, A());
    expect(back.room.timeline.limit).toBe(2);

    const devs = await ok('GET', '/devices', '/devices', A());
    expect(devs.devices.map((d: Json) => d.device_id)).toContain(alice.device_id);
    await ok('PUT', '/devices/{deviceId}', `/devices/${enc(alice.device_id)}`, { ...A(), body: { display_name: 'Laptop' } });
    const dev = await ok('GET', '/devices/{deviceId}', `/devices/${enc(alice.device_id)}`, A());
    expect(dev.display_name).toBe('Laptop');
  });

  it('sync: initial, incremental, with a filter', async () => {
    const initial = await ok('GET', '/sync', '/sync', B());
    expect(Object.keys(initial.rooms.join).sort()).toEqual([roomId, publicRoom].sort());
    const sendPath = '/rooms/{roomId}/send/{eventType}/{txnId}';
    const sent = await ok('PUT', sendPath, `/rooms/${enc(publicRoom)}/send/m.room.message/s1`, { ...A(), body: { msgtype: 'm.text', body: 'new' } });
    const inc = await ok('GET', '/sync', '/sync', { ...B(), query: { since: initial.next_batch, timeout: '5000' } });
    const events = inc.rooms.join[publicRoom].timeline.events.map((e: Json) => e.event_id);
    expect(events).toContain(sent.event_id);
    const f = await ok('POST', '/user/{userId}/filter', `/user/${enc(bob.user_id)}/filter`, { ...B(), body: { room: { rooms: [roomId], timeline: { limit: 1 } } } });
    const filtered = await ok('GET', '/sync', '/sync', { ...B(), query: { filter: f.filter_id } });
    expect(Object.keys(filtered.rooms.join)).toEqual([roomId]);
    expect(filtered.rooms.join[roomId].timeline.events).toHaveLength(1);
    expect(filtered.rooms.join[roomId].timeline.limited).toBe(true);
    const inline = await ok('GET', '/sync', '/sync', { ...B(), query: { filter: JSON.stringify({ room: { rooms: [publicRoom] } }) } });
    expect(Object.keys(inline.rooms.join)).toEqual([publicRoom]);
    // Carol has a pending invite to roomId.
    const carolSync = await ok('GET', '/sync', '/sync', C());
    expect(Object.keys(carolSync.rooms.invite)).toContain(roomId);
  });

  it('threads: roots by latest reply with their summary, participated only, pages', async () => {
    const { room_id: r } = await ok('POST', '/createRoom', '/createRoom', { ...A(), body: { preset: 'public_chat' } });
    await ok('POST', '/join/{roomIdOrAlias}', `/join/${enc(r)}`, { ...B(), body: {} });
    let n = 0;
    const send = async (who: { token: string }, content: Json) =>
      (await ok('PUT', '/rooms/{roomId}/send/{eventType}/{txnId}', `/rooms/${enc(r)}/send/m.room.message/th${++n}`, { ...who, body: { msgtype: 'm.text', ...content } }))
        .event_id as string;
    const inThread = (root: string) => ({ 'm.relates_to': { rel_type: 'm.thread', event_id: root } });
    const first = await send(A(), { body: 'first root' });
    const second = await send(B(), { body: 'second root' });
    await send(B(), { body: 'reply 1', ...inThread(first) });
    await send(A(), { body: 'reply 2', ...inThread(second) });
    const latest = await send(B(), { body: 'reply 3', ...inThread(first) });
    await node.log.drain();
    const threads = (token: { token: string }, query: Record<string, string> = {}) =>
      ok('GET', '/rooms/{roomId}/threads', `/_matrix/client/v1/rooms/${enc(r)}/threads`, { ...token, query });

    // The first thread had the latest reply: it comes first, with its summary.
    const all = await threads(A());
    expect(all.chunk.map((e: Json) => e.event_id)).toEqual([first, second]);
    expect(all.chunk[0].unsigned['m.relations']['m.thread']).toMatchObject({ count: 2, current_user_participated: true, latest_event: { event_id: latest } });
    expect(all.next_batch).toBeUndefined();
    // Bob replied in the first thread and started the second: both are his.
    expect((await threads(B(), { include: 'participated' })).chunk).toHaveLength(2);
    // Alice replied only in the second, and started the first; Bob's own thread is not hers.
    const third = await send(B(), { body: 'third root' });
    await send(B(), { body: 'reply 4', ...inThread(third) });
    await node.log.drain();
    expect((await threads(A(), { include: 'participated' })).chunk.map((e: Json) => e.event_id)).toEqual([first, second]);
    expect((await threads(A())).chunk.map((e: Json) => e.event_id)).toEqual([third, first, second]);
    // Pages of two.
    const page1 = await threads(A(), { limit: '2' });
    expect(page1.chunk.map((e: Json) => e.event_id)).toEqual([third, first]);
    const page2 = await threads(A(), { limit: '2', from: page1.next_batch });
    expect(page2.chunk.map((e: Json) => e.event_id)).toEqual([second]);
    expect(page2.next_batch).toBeUndefined();
    // Timelines bundle the same summary, and an edit by the original's sender.
    const edit = await send(A(), { body: '* first root, edited', 'm.new_content': { msgtype: 'm.text', body: 'first root, edited' }, 'm.relates_to': { rel_type: 'm.replace', event_id: first } });
    await send(B(), { body: '* not yours to edit', 'm.new_content': { msgtype: 'm.text', body: 'hijack' }, 'm.relates_to': { rel_type: 'm.replace', event_id: first } });
    await node.log.drain();
    const msgs = await ok('GET', '/rooms/{roomId}/messages', `/rooms/${enc(r)}/messages`, { ...A(), query: { dir: 'b', limit: '50' } });
    const rootInTimeline = msgs.chunk.find((e: Json) => e.event_id === first);
    expect(rootInTimeline.unsigned['m.relations']['m.thread']).toMatchObject({ count: 2, current_user_participated: true, latest_event: { event_id: latest } });
    expect(rootInTimeline.unsigned['m.relations']['m.replace'].event_id).toBe(edit);
    expect(msgs.chunk.find((e: Json) => e.event_id === second).unsigned['m.relations']['m.thread'].count).toBe(1);
    expect(msgs.chunk.find((e: Json) => e.event_id === latest).unsigned['m.relations']).toBeUndefined();
    const synced = await ok('GET', '/sync', '/sync', { ...B(), query: { timeout: '0', filter: JSON.stringify({ room: { timeline: { limit: 50 } } }) } });
    const rootInSync = synced.rooms.join[r].timeline.events.find((e: Json) => e.event_id === first);
    expect(rootInSync.unsigned['m.relations']['m.thread']).toMatchObject({ count: 2, current_user_participated: true });
    // Jump to a date: the nearest event either way, by its timestamp.
    const at = (ts: number, dir: string) => call('GET', `/_matrix/client/v1/rooms/${enc(r)}/timestamp_to_event`, { ...A(), query: { ts: String(ts), dir } });
    const firstEv = await ok('GET', '/rooms/{roomId}/event/{eventId}', `/rooms/${enc(r)}/event/${enc(first)}`, A());
    const forward = await ok('GET', '/rooms/{roomId}/timestamp_to_event', `/_matrix/client/v1/rooms/${enc(r)}/timestamp_to_event`, {
      ...A(),
      query: { ts: String(firstEv.origin_server_ts), dir: 'f' },
    });
    expect(forward.origin_server_ts).toBe(firstEv.origin_server_ts);
    const lastOne = await at(Date.now() + 60_000, 'b');
    expect(lastOne.status).toBe(200);
    expect(lastOne.body.origin_server_ts).toBeGreaterThanOrEqual(firstEv.origin_server_ts);
    expect((await at(Date.now() + 60_000, 'f')).body.errcode).toBe('M_NOT_FOUND');
    const created = await at(0, 'f');
    expect(created.body.origin_server_ts).toBeLessThanOrEqual(firstEv.origin_server_ts);
    expect((await at(0, 'x')).body.errcode).toBe('M_INVALID_PARAM');
    // Carol never joined: not allowed to list the room's threads.
    await fails(403, 'M_FORBIDDEN', 'GET', `/_matrix/client/v1/rooms/${enc(r)}/threads`, C());
    await fails(400, 'M_INVALID_PARAM', 'GET', `/_matrix/client/v1/rooms/${enc(r)}/threads`, { ...A(), query: { include: 'some' } });
  });

  it('space hierarchy: visible rooms breadth first with their children, suggested only, depth, pages', async () => {
    const create = async (body: Json) => (await ok('POST', '/createRoom', '/createRoom', { ...A(), body })).room_id as string;
    const space = await create({ preset: 'public_chat', name: 'Space', creation_content: { type: 'm.space' } });
    const sub = await create({ preset: 'public_chat', name: 'Sub space', creation_content: { type: 'm.space' } });
    const lobby = await create({ preset: 'public_chat', name: 'Lobby' });
    const secret = await create({ preset: 'private_chat', name: 'Secret' });
    const deep = await create({ preset: 'public_chat', name: 'Deep' });
    const server = alice.user_id.split(':').slice(1).join(':');
    const child = (parent: string, childId: string, content: Json) =>
      ok('PUT', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(parent)}/state/m.space.child/${enc(childId)}`, { ...A(), body: { via: [server], ...content } });
    await child(space, lobby, { order: 'b', suggested: true });
    await child(space, sub, { order: 'a' });
    await child(space, secret, {});
    await child(sub, deep, {});
    // A child without via is no child.
    await ok('PUT', '/rooms/{roomId}/state/{eventType}/{stateKey}', `/rooms/${enc(space)}/state/m.space.child/${enc(roomId)}`, { ...A(), body: {} });
    await node.log.drain();
    const hierarchy = (token: { token: string }, query: Record<string, string> = {}) =>
      ok('GET', '/rooms/{roomId}/hierarchy', `/_matrix/client/v1/rooms/${enc(space)}/hierarchy`, { ...token, query });

    // Bob is in none of them: the private room stays hidden from him, ordered children come first.
    const forBob = await hierarchy(B());
    expect(forBob.rooms.map((r: Json) => r.room_id)).toEqual([space, sub, lobby, deep]);
    expect(forBob.rooms[0]).toMatchObject({ name: 'Space', room_type: 'm.space', join_rule: 'public', num_joined_members: 1 });
    expect(forBob.rooms[0].children_state.map((e: Json) => e.state_key)).toEqual([sub, lobby, secret]);
    // Alice is in the private room.
    expect((await hierarchy(A())).rooms.map((r: Json) => r.room_id)).toEqual([space, sub, lobby, secret, deep]);
    expect((await hierarchy(B(), { suggested_only: 'true' })).rooms.map((r: Json) => r.room_id)).toEqual([space, lobby]);
    expect((await hierarchy(B(), { max_depth: '1' })).rooms.map((r: Json) => r.room_id)).toEqual([space, sub, lobby]);
    const page1 = await hierarchy(B(), { limit: '2' });
    expect(page1.rooms.map((r: Json) => r.room_id)).toEqual([space, sub]);
    const page2 = await hierarchy(B(), { limit: '2', from: page1.next_batch });
    expect(page2.rooms.map((r: Json) => r.room_id)).toEqual([lobby, deep]);
    expect(page2.next_batch).toBeUndefined();
    // Carol may not see the private room as a root.
    await fails(403, 'M_FORBIDDEN', 'GET', `/_matrix/client/v1/rooms/${enc(secret)}/hierarchy`, C());
    await fails(400, 'M_INVALID_PARAM', 'GET', `/_matrix/client/v1/rooms/${enc(space)}/hierarchy`, { ...B(), query: { from: 'nonsense' } });
  });

  it('user directory: local users and users seen in rooms, by id or display name, ranked and limited', async () => {
    const dave = await registerUser(url, 'dave_in_no_room');
    const search = (search_term: string, limit?: number, token = C()) =>
      ok('POST', '/user_directory/search', '/user_directory/search', { ...token, body: { search_term, ...(limit !== undefined ? { limit } : {}) } });
    // By display name (set in the profile test), in any case.
    const byName = await search('alice a.');
    expect(byName.results).toEqual([expect.objectContaining({ user_id: alice.user_id, display_name: 'Alice A.' })]);
    expect(byName.limited).toBe(false);
    // A local user who is in no room is found too.
    expect((await search('DAVE_IN')).results.map((u: Json) => u.user_id)).toEqual([dave.user_id]);
    // By id; a name or id that starts with the term ranks first.
    const all = await search(alice.user_id.split(':')[1]!);
    expect(all.results.map((u: Json) => u.user_id)).toEqual(expect.arrayContaining([alice.user_id, bob.user_id, carol.user_id, dave.user_id]));
    const limited = await search(alice.user_id.split(':')[1]!, 2);
    expect(limited.results).toHaveLength(2);
    expect(limited.limited).toBe(true);
    expect((await search('zzz-nobody')).results).toEqual([]);
    // LIKE wildcards are plain characters.
    expect((await search('%')).results).toEqual([]);
    expect((await search('_in_no_')).results.map((u: Json) => u.user_id)).toEqual([dave.user_id]);
    await fails(400, 'M_MISSING_PARAM', 'POST', '/user_directory/search', { ...C(), body: {} });
    await fails(400, 'M_BAD_JSON', 'POST', '/user_directory/search', { ...C(), body: { search_term: 5 } });
    await fails(401, 'M_MISSING_TOKEN', 'POST', '/user_directory/search', { body: { search_term: 'a' } });
  });
});
