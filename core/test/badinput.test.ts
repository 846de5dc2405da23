import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AxonNode } from '../node.js';
import { registerUser, startTestNode } from './node.js';

let node: AxonNode;
let url: string;
let limited: { node: AxonNode; url: string } | undefined;
let alice: { user_id: string; access_token: string };
let bob: { user_id: string; access_token: string };
let roomId: string;

const enc = encodeURIComponent;
const CS = '/_matrix/client/v3';

interface Reply {
  status: number;
  body: Record<string, any>;
}

/** A raw request: `body` is sent verbatim when a string, as JSON otherwise. */
async function call(method: string, path: string, opts: { token?: string; body?: unknown; base?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  if (opts.token) headers.Authorization = `Bearer ${opts.token}`;
  if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
  const body = opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const res = await fetch(`${opts.base ?? url}${path.startsWith('/_matrix') ? path : CS + path}`, { method, headers, body });
  const text = await res.text();
  let parsed: Record<string, any>;
  try {
    parsed = JSON.parse(text) as Record<string, any>;
  } catch {
    throw new Error(`${method} ${path}: ${res.status} non-JSON reply: ${text.slice(0, 200)}`);
  }
  return { status: res.status, body: parsed };
}

/** Expects `status` and a standard error body with `errcode`. */
async function expectError(status: number, errcode: string, method: string, path: string, opts: Parameters<typeof call>[2] = {}): Promise<Reply> {
  const r = await call(method, path, opts);
  expect({ status: r.status, errcode: r.body.errcode }, `${method} ${path}: ${JSON.stringify(r.body).slice(0, 300)}`).toEqual({ status, errcode });
  expect(typeof r.body.error).toBe('string');
  return r;
}

const A = () => ({ token: alice.access_token });
const B = () => ({ token: bob.access_token });

beforeAll(async () => {
  ({ node, url } = await startTestNode());
  alice = await registerUser(url, 'alice');
  bob = await registerUser(url, 'bob');
  const r = await call('POST', '/createRoom', { ...A(), body: { preset: 'private_chat' } });
  roomId = r.body.room_id as string;
});
afterAll(async () => {
  await limited?.node.stop();
  await node?.stop();
});

describe('bad input answers the spec errcodes', () => {
  it('M_NOT_JSON, M_BAD_JSON, M_MISSING_PARAM, M_INVALID_PARAM', async () => {
    await expectError(400, 'M_NOT_JSON', 'POST', '/createRoom', { ...A(), body: '{not json' });
    await expectError(400, 'M_NOT_JSON', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t1`, { ...A(), body: '' });
    await expectError(400, 'M_BAD_JSON', 'POST', '/createRoom', { ...A(), body: '[1,2]' });
    await expectError(400, 'M_BAD_JSON', 'POST', '/createRoom', { ...A(), body: { preset: 'nonsense' } });
    await expectError(400, 'M_BAD_JSON', 'POST', '/createRoom', { ...A(), body: { invite: 'not-a-list' } });
    await expectError(400, 'M_MISSING_PARAM', 'POST', `/rooms/${enc(roomId)}/invite`, { ...A(), body: {} });
    await expectError(400, 'M_MISSING_PARAM', 'PUT', `/directory/room/${enc('#x:' + alice.user_id.split(':')[1])}`, { ...A(), body: {} });
    await expectError(400, 'M_INVALID_PARAM', 'GET', `/rooms/${enc(roomId)}/messages?dir=sideways`, A());
    await expectError(400, 'M_INVALID_PARAM', 'GET', `/rooms/${enc(roomId)}/messages?dir=b&limit=-5`, A());
    await expectError(400, 'M_INVALID_PARAM', 'GET', '/sync?since=garbage', A());
  });

  it('M_MISSING_TOKEN, M_UNKNOWN_TOKEN, M_FORBIDDEN, M_NOT_FOUND', async () => {
    await expectError(401, 'M_MISSING_TOKEN', 'GET', '/account/whoami');
    await expectError(401, 'M_MISSING_TOKEN', 'GET', '/sync');
    const unknown = await expectError(401, 'M_UNKNOWN_TOKEN', 'GET', '/account/whoami', { token: 'not-a-real-token' });
    expect(unknown.body.soft_logout).toBe(false);
    // Bob is not invited to a private room.
    await expectError(403, 'M_FORBIDDEN', 'POST', `/join/${enc(roomId)}`, { ...B(), body: {} });
    await expectError(403, 'M_FORBIDDEN', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/t1`, { ...B(), body: { msgtype: 'm.text', body: 'x' } });
    await expectError(403, 'M_FORBIDDEN', 'GET', `/user/${enc(alice.user_id)}/account_data/x.y`, B());
    await expectError(404, 'M_NOT_FOUND', 'GET', `/directory/room/${enc('#nothing:' + alice.user_id.split(':')[1])}`, A());
    await expectError(404, 'M_NOT_FOUND', 'GET', `/rooms/${enc(roomId)}/event/${enc('$' + 'A'.repeat(43))}`, A());
    await expectError(404, 'M_NOT_FOUND', 'GET', `/user/${enc(alice.user_id)}/account_data/never.set`, A());
  });

  it('M_USER_IN_USE, M_ROOM_IN_USE, M_UNSUPPORTED_ROOM_VERSION, M_BAD_STATE', async () => {
    const first = await call('POST', '/register', { body: { username: 'alice', password: 'whatever pw 1' } });
    expect(first.status).toBe(400);
    expect(first.body.errcode).toBe('M_USER_IN_USE');
    await expectError(400, 'M_USER_IN_USE', 'GET', '/register/available?username=alice');
    await call('POST', '/createRoom', { ...A(), body: { room_alias_name: 'taken' } });
    await expectError(400, 'M_ROOM_IN_USE', 'POST', '/createRoom', { ...A(), body: { room_alias_name: 'taken' } });
    await expectError(400, 'M_UNSUPPORTED_ROOM_VERSION', 'POST', '/createRoom', { ...A(), body: { room_version: '999' } });
    await expectError(400, 'M_BAD_STATE', 'POST', `/rooms/${enc(roomId)}/unban`, { ...A(), body: { user_id: bob.user_id } });
  });

  it('M_UNRECOGNIZED for unknown endpoints (404) and wrong methods (405)', async () => {
    await expectError(404, 'M_UNRECOGNIZED', 'GET', '/no/such/endpoint', A());
    await expectError(404, 'M_UNRECOGNIZED', 'POST', '/_matrix/client/v9/whatever', A());
    await expectError(405, 'M_UNRECOGNIZED', 'DELETE', '/account/whoami', A());
    await expectError(405, 'M_UNRECOGNIZED', 'GET', '/createRoom', A());
  });

  it('M_TOO_LARGE, a 1000-deep body and a 20 MB body; the node keeps answering', async () => {
    const deep = '{"a":'.repeat(1000) + '1' + '}'.repeat(1000);
    const d = await call('PUT', `/rooms/${enc(roomId)}/send/m.room.message/deep`, { ...A(), body: deep });
    expect(d.status).toBe(400);
    expect(d.body.errcode).toBe('M_BAD_JSON');
    const deepArr = `{"a":${'['.repeat(1000)}${']'.repeat(1000)}}`;
    expect((await call('POST', '/createRoom', { ...A(), body: deepArr })).status).toBe(400);

    const huge = JSON.stringify({ msgtype: 'm.text', body: 'x'.repeat(20 * 1024 * 1024) });
    await expectError(413, 'M_TOO_LARGE', 'PUT', `/rooms/${enc(roomId)}/send/m.room.message/huge`, { ...A(), body: huge });
    // An event over 64 KiB is refused even when the body limit allows it.
    const big = await call('PUT', `/rooms/${enc(roomId)}/send/m.room.message/big`, { ...A(), body: { msgtype: 'm.text', body: 'x'.repeat(70 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body.errcode).toBe('M_TOO_LARGE');

    expect((await call('GET', '/_matrix/client/versions')).status).toBe(200);
    const sent = await call('PUT', `/rooms/${enc(roomId)}/send/m.room.message/after`, { ...A(), body: { msgtype: 'm.text', body: 'still alive' } });
    expect(sent.status).toBe(200);
    expect(sent.body.event_id).toMatch(/^\$/);
  });

  it('M_LIMIT_EXCEEDED on a rate-limited node', async () => {
    limited = await startTestNode({ rateLimit: 1 });
    const u = await registerUser(limited.url, 'hammer').catch(async () => {
      // Registering is rate limited too: wait for the bucket to refill and retry once.
      await new Promise((r) => setTimeout(r, 3000));
      return registerUser(limited!.url, 'hammer');
    });
    let hit: Reply | undefined;
    for (let i = 0; i < 30 && !hit; i++) {
      const r = await call('POST', '/createRoom', { base: limited.url, token: u.access_token, body: {} });
      if (r.status === 429) hit = r;
      else expect(r.status).toBe(200);
    }
    expect(hit, 'no 429 after 30 createRoom calls').toBeDefined();
    expect(hit!.body.errcode).toBe('M_LIMIT_EXCEEDED');
    expect(typeof hit!.body.error).toBe('string');
    expect(hit!.body.retry_after_ms).toBeTypeOf('number');
  });

  it('unknown room ids: 404 or 403 as the spec says for each room endpoint', async () => {
    const ev = enc('$' + 'B'.repeat(43));
    const ghost = enc(`!ghostroom:${alice.user_id.split(':')[1]}`);
    const body = (b: unknown) => ({ ...A(), body: b });
    // Reading endpoints: the spec lists 403 (not a member) for these; 404 is accepted where the
    // room itself is unknown (the spec's 404 for state/event, and hiding room existence).
    const cases: Array<[string, string, Parameters<typeof call>[2], number[]]> = [
      ['GET', `/rooms/${ghost}/state`, A(), [403, 404]],
      ['GET', `/rooms/${ghost}/state/m.room.name/`, A(), [403, 404]],
      ['GET', `/rooms/${ghost}/members`, A(), [403, 404]],
      ['GET', `/rooms/${ghost}/joined_members`, A(), [403, 404]],
      ['GET', `/rooms/${ghost}/messages?dir=b`, A(), [403, 404]],
      ['GET', `/rooms/${ghost}/event/${ev}`, A(), [404]],
      ['GET', `/rooms/${ghost}/context/${ev}`, A(), [403, 404]],
      ['GET', `/rooms/${ghost}/aliases`, A(), [403, 404]],
      ['GET', `/_matrix/client/v1/rooms/${ghost}/relations/${ev}`, A(), [403, 404]],
      ['PUT', `/rooms/${ghost}/send/m.room.message/t`, body({ msgtype: 'm.text', body: 'x' }), [403, 404]],
      ['PUT', `/rooms/${ghost}/state/m.room.name/`, body({ name: 'x' }), [403, 404]],
      ['PUT', `/rooms/${ghost}/redact/${ev}/t`, body({}), [403, 404]],
      ['POST', `/rooms/${ghost}/join`, body({}), [403, 404]],
      ['POST', `/join/${ghost}`, body({}), [403, 404]],
      ['POST', `/knock/${ghost}`, body({}), [403, 404]],
      ['POST', `/rooms/${ghost}/leave`, body({}), [403, 404]],
      ['POST', `/rooms/${ghost}/invite`, body({ user_id: bob.user_id }), [403, 404]],
      ['POST', `/rooms/${ghost}/kick`, body({ user_id: bob.user_id }), [403, 404]],
      ['POST', `/rooms/${ghost}/ban`, body({ user_id: bob.user_id }), [403, 404]],
      ['POST', `/rooms/${ghost}/unban`, body({ user_id: bob.user_id }), [403, 404]],
      ['GET', `/directory/list/room/${ghost}`, {}, [404]],
      ['PUT', `/directory/list/room/${ghost}`, body({ visibility: 'public' }), [403, 404]],
    ];
    for (const [method, path, opts, allowed] of cases) {
      const r = await call(method, path, opts);
      expect(allowed, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
      expect(['M_NOT_FOUND', 'M_FORBIDDEN']).toContain(r.body.errcode);
    }
  });

  it('malformed room, user and event ids in paths: 400', async () => {
    const cases: Array<[string, string, Parameters<typeof call>[2]]> = [
      ['GET', `/rooms/not-a-room/state`, A()],
      ['GET', `/rooms/${enc('!nocolon')}/members`, A()],
      ['PUT', `/rooms/${enc('#alias:example.org')}/send/m.room.message/t`, { ...A(), body: { msgtype: 'm.text', body: 'x' } }],
      ['GET', `/rooms/${enc(roomId)}/event/not-an-event`, A()],
      ['GET', `/rooms/${enc(roomId)}/context/not-an-event`, A()],
      ['PUT', `/rooms/${enc(roomId)}/redact/not-an-event/t`, { ...A(), body: {} }],
      ['GET', `/profile/not-a-user`, A()],
      ['GET', `/user/not-a-user/account_data/x.y`, A()],
      ['GET', `/user/${enc('@nocolon')}/filter/1`, A()],
      ['POST', `/rooms/${enc(roomId)}/invite`, { ...A(), body: { user_id: 'bob' } }],
      ['POST', `/rooms/${enc(roomId)}/kick`, { ...A(), body: { user_id: '@' } }],
      ['GET', `/directory/room/not-an-alias`, A()],
      ['GET', `/directory/list/room/not-a-room`, {}],
    ];
    for (const [method, path, opts] of cases) {
      const r = await call(method, path, opts);
      expect(r.status, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`).toBe(400);
      expect(['M_INVALID_PARAM', 'M_BAD_JSON', 'M_INVALID_ROOM_ID', 'M_MISSING_PARAM']).toContain(r.body.errcode);
    }
  });
});
