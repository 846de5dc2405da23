/** The user API over real HTTP: a real SQLite file, a real room server, 127.0.0.1 port 0. */
import { afterEach, describe, expect, it } from 'vitest';
import type { AddressInfo } from 'node:net';
import type { Db } from '../db/index.js';
import type { Log, LogMessage } from '../log/index.js';
import type { Server } from 'node:http';
import { ACCOUNT_DATA_TOPIC, type AccountDataOutput } from './api.js';
import { HttpApp } from '../http/index.js';
import { NO_FETCHER, Roomserver } from '../roomserver/index.js';
import { UserApi, userApiEndpoints, type UserApiConfig } from './index.js';
import { createAdaptorServer } from '@hono/node-server';
import { createHmac } from 'node:crypto';
import { serverNameKeys, testServer, testStorage, tmpDir, type TestServer } from '../test/fixtures.js';

interface Reply {
  status: number;
  // Tests read arbitrary response fields.
  json: Record<string, any>;
}

interface Harness {
  api: UserApi;
  rs: Roomserver;
  db: Db;
  log: Log;
  server: TestServer;
  dir: string;
  call(method: string, path: string, body?: unknown, token?: string): Promise<Reply>;
  /** Registers through the dummy flow; returns the login response. */
  register(username: string, password?: string, extra?: Record<string, unknown>): Promise<Reply['json']>;
  close(): Promise<void>;
}

async function startHarness(config: UserApiConfig = { registration: 'open' }, opts: { dir?: string; server?: TestServer } = {}): Promise<Harness> {
  const dir = opts.dir ?? tmpDir();
  const server = opts.server ?? testServer();
  const { db, log, logger } = testStorage(dir);
  const rs = new Roomserver({ db, log, logger, serverName: server.name, signingKey: server.key, keys: serverNameKeys, fetcher: NO_FETCHER });
  const api = new UserApi({ db, log, logger, serverName: server.name, config, roomserver: rs });
  const app = new HttpApp({ logger, maxBody: 64 * 1024, authenticate: (t) => api.authenticateRequest(t) });
  app.add(...userApiEndpoints(api));
  const http = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const call = async (method: string, path: string, body?: unknown, token?: string): Promise<Reply> => {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(base + path, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text ? JSON.parse(text) : {} };
  };
  const register = async (username: string, password = 'secret-pass', extra: Record<string, unknown> = {}) => {
    const first = await call('POST', '/_matrix/client/v3/register', { username, password, ...extra });
    if (first.status !== 401) throw new Error(`expected 401, got ${first.status} ${JSON.stringify(first.json)}`);
    const done = await call('POST', '/_matrix/client/v3/register', { username, password, ...extra, auth: { type: 'm.login.dummy', session: first.json.session } });
    if (done.status !== 200) throw new Error(`register failed: ${done.status} ${JSON.stringify(done.json)}`);
    return done.json;
  };
  return {
    api,
    rs,
    db,
    log,
    server,
    dir,
    call,
    register,
    close: async () => {
      await new Promise<void>((r) => http.close(() => r()));
      await log.close();
      db.close();
    },
  };
}

const open: Harness[] = [];
afterEach(async () => {
  for (const h of open.splice(0)) await h.close();
});
async function harness(...args: Parameters<typeof startHarness>): Promise<Harness> {
  const h = await startHarness(...args);
  open.push(h);
  return h;
}

// ---- register ----
{
const REG = '/_matrix/client/v3/register';

describe('POST /register', () => {
  it('answers 401 with the dummy flow and a session, then registers on the dummy stage', async () => {
    const h = await harness();
    const first = await h.call('POST', REG, { username: 'Alice', password: 'pw-123456' });
    expect(first.status).toBe(401);
    expect(first.json).toEqual({ flows: [{ stages: ['m.login.dummy'] }], params: {}, session: expect.any(String) });
    const done = await h.call('POST', REG, {
      username: 'Alice',
      password: 'pw-123456',
      device_id: 'MYDEVICE',
      initial_device_display_name: 'Laptop',
      auth: { type: 'm.login.dummy', session: first.json.session },
    });
    expect(done.status).toBe(200);
    const alice = `@alice:${h.server.name}`;
    expect(done.json).toMatchObject({ user_id: alice, device_id: 'MYDEVICE', home_server: h.server.name });
    expect(done.json.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const who = await h.call('GET', '/_matrix/client/v3/account/whoami', undefined, done.json.access_token);
    expect(who.json).toEqual({ user_id: alice, device_id: 'MYDEVICE', is_guest: false });
    const devices = await h.call('GET', '/_matrix/client/v3/devices', undefined, done.json.access_token);
    expect(devices.json.devices).toEqual([{ device_id: 'MYDEVICE', display_name: 'Laptop' }]);
    expect(h.api.profile(alice)).toEqual({ displayname: 'alice' });
    expect(h.api.accountExists(alice)).toBe(true);
    // A completed session cannot be used again.
    const again = await h.call('POST', REG, { username: 'bob', password: 'x', auth: { type: 'm.login.dummy', session: first.json.session } });
    expect(again.status).toBe(400);
  });

  it('stores scrypt password hashes and sha256 token hashes, never the secrets', async () => {
    const h = await harness();
    const r = await h.register('carol', 'hunter2-password');
    const acct = h.db.raw.prepare('SELECT password_hash FROM ua_accounts WHERE localpart = ?').get('carol') as { password_hash: string };
    expect(acct.password_hash).toMatch(/^scrypt\$/);
    expect(acct.password_hash).not.toContain('hunter2');
    const tokens = h.db.raw.prepare('SELECT token_hash FROM ua_access_tokens').all() as Array<{ token_hash: string }>;
    expect(tokens).toHaveLength(1);
    expect(tokens[0]!.token_hash).not.toBe(r.access_token);
  });

  it('honours inhibit_login and generates a username when none is given', async () => {
    const h = await harness();
    const r = await h.register('dave', 'pw', { inhibit_login: true });
    expect(r.user_id).toBe(`@dave:${h.server.name}`);
    expect(r.access_token).toBeUndefined();
    expect(h.api.deviceIds(r.user_id)).toEqual([]);
    const first = await h.call('POST', REG, { password: 'pw' });
    const anon = await h.call('POST', REG, { password: 'pw', auth: { type: 'm.login.dummy', session: first.json.session } });
    expect(anon.status).toBe(200);
    expect(anon.json.user_id).toMatch(new RegExp(`^@u[0-9a-f]{12}:${h.server.name}$`));
  });

  it.each([
    ['taken username', { username: 'erin', password: 'pw' }, 400, 'M_USER_IN_USE'],
    ['taken username in another case', { username: 'ERIN', password: 'pw' }, 400, 'M_USER_IN_USE'],
    ['invalid characters', { username: 'bad name', password: 'pw' }, 400, 'M_INVALID_USERNAME'],
    ['a colon', { username: 'a:b', password: 'pw' }, 400, 'M_INVALID_USERNAME'],
    ['too long', { username: 'x'.repeat(250), password: 'pw' }, 400, 'M_INVALID_USERNAME'],
    ['a non-string username', { username: 5, password: 'pw' }, 400, 'M_BAD_JSON'],
    ['a non-boolean inhibit_login', { username: 'zed', password: 'pw', inhibit_login: 'yes' }, 400, 'M_BAD_JSON'],
    ['an unknown session', { username: 'zed', password: 'pw', auth: { type: 'm.login.dummy', session: 'nope' } }, 400, 'M_UNKNOWN'],
    ['an unsupported stage', { username: 'zed', password: 'pw', auth: { type: 'm.login.recaptcha' } }, 400, 'M_INVALID_PARAM'],
    ['no password', { username: 'zed', auth: { type: 'm.login.dummy' } }, 400, 'M_MISSING_PARAM'],
  ])('refuses %s', async (_name, body, status, errcode) => {
    const h = await harness();
    await h.register('erin');
    const r = await h.call('POST', REG, body);
    expect(r.status).toBe(status);
    expect(r.json.errcode).toBe(errcode);
  });

  it('refuses guests, and registration when closed or shared-secret only', async () => {
    const h = await harness();
    expect((await h.call('POST', `${REG}?kind=guest`, {})).json.errcode).toBe('M_FORBIDDEN');
    expect((await h.call('POST', `${REG}?kind=robot`, {})).json.errcode).toBe('M_INVALID_PARAM');
    for (const mode of ['closed', 'shared-secret'] as const) {
      const c = await harness({ registration: mode, registrationSharedSecret: 's' });
      const r = await c.call('POST', REG, { username: 'x', password: 'pw' });
      expect(r.status).toBe(403);
      expect(r.json.errcode).toBe('M_FORBIDDEN');
    }
  });

  it('GET /register/available', async () => {
    const h = await harness();
    await h.register('frank');
    const free = await h.call('GET', `${REG}/available?username=grace`);
    expect(free).toEqual({ status: 200, json: { available: true } });
    expect((await h.call('GET', `${REG}/available?username=Frank`)).json.errcode).toBe('M_USER_IN_USE');
    expect((await h.call('GET', `${REG}/available?username=a%20b`)).json.errcode).toBe('M_INVALID_USERNAME');
    expect((await h.call('GET', `${REG}/available`)).json.errcode).toBe('M_MISSING_PARAM');
  });
});

describe('GET /register/m.login.registration_token/validity', () => {
  it('finds no valid tokens, and answers 403 when registration is not open', async () => {
    const h = await harness();
    const path = `${REG}/m.login.registration_token/validity`;
    expect((await h.call('GET', `${path}?token=abc`)).json).toEqual({ valid: false });
    expect((await h.call('GET', path)).json.errcode).toBe('M_MISSING_PARAM');
    const closed = await harness({ registration: 'closed' });
    expect((await closed.call('GET', `${path}?token=abc`)).status).toBe(403);
  });
});

describe('registration tokens', () => {
  it('asks for m.login.registration_token and accepts only a configured token', async () => {
    const h = await harness({ registration: 'open', registrationTokens: ['letmein'] });
    const first = await h.call('POST', REG, { username: 'tok', password: 'pw' });
    expect(first.status).toBe(401);
    expect(first.json.flows).toEqual([{ stages: ['m.login.registration_token'] }]);
    const session = first.json.session;
    const dummy = await h.call('POST', REG, { username: 'tok', password: 'pw', auth: { type: 'm.login.dummy', session } });
    expect(dummy.status).toBe(400);
    const wrong = await h.call('POST', REG, { username: 'tok', password: 'pw', auth: { type: 'm.login.registration_token', token: 'nope', session } });
    expect(wrong.status).toBe(401);
    expect(wrong.json.errcode).toBe('M_FORBIDDEN');
    const ok = await h.call('POST', REG, { username: 'tok', password: 'pw', auth: { type: 'm.login.registration_token', token: 'letmein', session } });
    expect(ok.status).toBe(200);
    expect(ok.json.user_id).toBe(`@tok:${h.server.name}`);
    const validity = `${REG}/m.login.registration_token/validity`;
    expect((await h.call('GET', `${validity}?token=letmein`)).json).toEqual({ valid: true });
    expect((await h.call('GET', `${validity}?token=nope`)).json).toEqual({ valid: false });
    // The spec's own path, under v1.
    expect((await h.call('GET', `/_matrix/client/v1/register/m.login.registration_token/validity?token=letmein`)).json).toEqual({ valid: true });
  });
});

describe('shared-secret registration (/_synapse/admin/v1/register)', () => {
  const ADMIN = '/_synapse/admin/v1/register';
  const mac = (secret: string, nonce: string, user: string, pw: string, admin: boolean) =>
    createHmac('sha1', secret).update(`${nonce}\0${user}\0${pw}\0${admin ? 'admin' : 'notadmin'}`).digest('hex');

  it('registers an admin with a correct mac, and refuses a wrong mac or a reused nonce', async () => {
    const h = await harness({ registration: 'shared-secret', registrationSharedSecret: 'shh' });
    const { json } = await h.call('GET', ADMIN);
    expect(json.nonce).toMatch(/^[0-9a-f]{32}$/);
    const body = { nonce: json.nonce, username: 'Root', password: 'pw', admin: true, mac: mac('shh', json.nonce, 'Root', 'pw', true) };
    const r = await h.call('POST', ADMIN, body);
    expect(r.status).toBe(200);
    expect(r.json.user_id).toBe(`@root:${h.server.name}`);
    expect(h.api.authenticate(r.json.access_token)).toMatchObject({ userId: `@root:${h.server.name}`, isAdmin: true });
    expect((await h.call('POST', ADMIN, body)).json.errcode).toBe('M_UNKNOWN');

    const n2 = (await h.call('GET', ADMIN)).json.nonce;
    const wrong = await h.call('POST', ADMIN, { nonce: n2, username: 'eve', password: 'pw', mac: mac('guess', n2, 'eve', 'pw', false) });
    expect(wrong.status).toBe(403);
    expect(wrong.json.errcode).toBe('M_FORBIDDEN');
    // The admin flag is covered by the mac.
    const n3 = (await h.call('GET', ADMIN)).json.nonce;
    const flipped = await h.call('POST', ADMIN, { nonce: n3, username: 'eve', password: 'pw', admin: true, mac: mac('shh', n3, 'eve', 'pw', false) });
    expect(flipped.status).toBe(403);
    const n4 = (await h.call('GET', ADMIN)).json.nonce;
    const plain = await h.call('POST', ADMIN, { nonce: n4, username: 'eve', password: 'pw', mac: mac('shh', n4, 'eve', 'pw', false) });
    expect(plain.status).toBe(200);
    expect(h.api.authenticate(plain.json.access_token)?.isAdmin).toBe(false);
    expect((await h.call('POST', ADMIN, { nonce: n4, username: 'eve' })).json.errcode).toBe('M_MISSING_PARAM');
  });

  it('works in open mode too when a secret is set, and not at all without one', async () => {
    const h = await harness({ registration: 'open', registrationSharedSecret: 'k' });
    const n = (await h.call('GET', ADMIN)).json.nonce;
    expect((await h.call('POST', ADMIN, { nonce: n, username: 'ops', password: 'pw', mac: mac('k', n, 'ops', 'pw', false) })).status).toBe(200);
    const none = await harness({ registration: 'open' });
    expect((await none.call('GET', ADMIN)).status).toBe(400);
  });
});
}

// ---- login ----
{
const CS = '/_matrix/client/v3';
const pwLogin = (user: string, password: string, extra: Record<string, unknown> = {}) => ({
  type: 'm.login.password',
  identifier: { type: 'm.id.user', user },
  password,
  ...extra,
});

describe('login', () => {
  it('lists the password flow and logs in by localpart, by full id, and with the deprecated user field', async () => {
    const h = await harness();
    await h.register('alice', 'correct horse');
    expect((await h.call('GET', `${CS}/login`)).json).toEqual({ flows: [{ type: 'm.login.password' }, { type: 'm.login.token' }] });
    const alice = `@alice:${h.server.name}`;
    const a = await h.call('POST', `${CS}/login`, pwLogin('ALICE', 'correct horse', { initial_device_display_name: 'Phone' }));
    expect(a.status).toBe(200);
    expect(a.json).toMatchObject({ user_id: alice, home_server: h.server.name });
    expect(a.json.refresh_token).toBeUndefined();
    const b = await h.call('POST', `${CS}/login`, pwLogin(alice, 'correct horse', { device_id: 'DEV2' }));
    expect(b.json.device_id).toBe('DEV2');
    const c = await h.call('POST', `${CS}/login`, { type: 'm.login.password', user: 'alice', password: 'correct horse' });
    expect(c.status).toBe(200);
    expect(new Set([a.json.access_token, b.json.access_token, c.json.access_token]).size).toBe(3);
    expect(h.api.deviceIds(alice)).toHaveLength(4);
    expect(h.api.device(alice, a.json.device_id)?.display_name).toBe('Phone');
  });

  it.each([
    ['a wrong password', pwLogin('alice', 'nope'), 403, 'M_FORBIDDEN'],
    ['an unknown user', pwLogin('nobody', 'pw'), 403, 'M_FORBIDDEN'],
    ['a user on another server', pwLogin('@alice:elsewhere.example', 'correct horse'), 403, 'M_FORBIDDEN'],
    ['no password', { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'alice' } }, 400, 'M_MISSING_PARAM'],
    ['no user', { type: 'm.login.password', password: 'x' }, 400, 'M_MISSING_PARAM'],
    ['no type', { user: 'alice', password: 'x' }, 400, 'M_MISSING_PARAM'],
    ['an unknown login type', { type: 'm.login.sso', token: 'x' }, 400, 'M_UNKNOWN'],
    ['an unknown login token', { type: 'm.login.token', token: 'x' }, 403, 'M_FORBIDDEN'],
    ['an unknown identifier type', { type: 'm.login.password', identifier: { type: 'm.id.phone' }, password: 'x' }, 400, 'M_UNKNOWN'],
    ['a non-string password', pwLogin('alice', 5 as unknown as string), 400, 'M_BAD_JSON'],
  ])('refuses %s', async (_n, body, status, errcode) => {
    const h = await harness();
    await h.register('alice', 'correct horse');
    const r = await h.call('POST', `${CS}/login`, body);
    expect(r.status).toBe(status);
    expect(r.json.errcode).toBe(errcode);
  });

  it('issues refresh tokens on request and rotates them on /refresh', async () => {
    const h = await harness();
    await h.register('bob', 'pw');
    const r = await h.call('POST', `${CS}/login`, pwLogin('bob', 'pw', { refresh_token: true }));
    expect(r.json.refresh_token).toEqual(expect.any(String));
    expect(r.json.expires_in_ms).toBe(3_600_000);
    const n = await h.call('POST', `${CS}/refresh`, { refresh_token: r.json.refresh_token });
    expect(n.status).toBe(200);
    expect(n.json.access_token).not.toBe(r.json.access_token);
    expect(n.json.refresh_token).not.toBe(r.json.refresh_token);
    const who = await h.call('GET', `${CS}/account/whoami`, undefined, n.json.access_token);
    expect(who.json.device_id).toBe(r.json.device_id);
    // The old pair is spent.
    expect((await h.call('GET', `${CS}/account/whoami`, undefined, r.json.access_token)).json.errcode).toBe('M_UNKNOWN_TOKEN');
    const old = await h.call('POST', `${CS}/refresh`, { refresh_token: r.json.refresh_token });
    expect(old.status).toBe(401);
    expect(old.json.errcode).toBe('M_UNKNOWN_TOKEN');
    expect((await h.call('POST', `${CS}/refresh`, {})).json.errcode).toBe('M_MISSING_PARAM');
  });

  it('refuses expired access tokens', async () => {
    const h = await harness({ registration: 'open', accessTokenLifetimeMs: 30 });
    await h.register('carl', 'pw');
    const r = await h.call('POST', `${CS}/login`, pwLogin('carl', 'pw', { refresh_token: true }));
    expect(h.api.authenticate(r.json.access_token)).toBeDefined();
    await new Promise((res) => setTimeout(res, 50));
    // Expired, not revoked: the client should refresh and keep its session (spec: soft logout).
    const expired = await h.call('GET', `${CS}/account/whoami`, undefined, r.json.access_token);
    expect(expired.status).toBe(401);
    expect(expired.json).toMatchObject({ errcode: 'M_UNKNOWN_TOKEN', soft_logout: true });
    // A token that was never issued is a hard logout.
    expect((await h.call('GET', `${CS}/account/whoami`, undefined, 'not-a-token')).json).toMatchObject({ errcode: 'M_UNKNOWN_TOKEN', soft_logout: false });
    const n = await h.call('POST', `${CS}/refresh`, { refresh_token: r.json.refresh_token });
    expect((await h.call('GET', `${CS}/account/whoami`, undefined, n.json.access_token)).status).toBe(200);
  });

  it('logout deletes the device and its token; logout/all deletes every device', async () => {
    const h = await harness();
    const reg = await h.register('dora', 'pw');
    const t2 = (await h.call('POST', `${CS}/login`, pwLogin('dora', 'pw'))).json;
    const t3 = (await h.call('POST', `${CS}/login`, pwLogin('dora', 'pw'))).json;
    // Warm the cache so that invalidation is what is tested.
    expect(h.api.authenticate(t2.access_token)).toBeDefined();
    expect((await h.call('POST', `${CS}/logout`, undefined, t2.access_token)).status).toBe(200);
    expect((await h.call('GET', `${CS}/account/whoami`, undefined, t2.access_token)).json.errcode).toBe('M_UNKNOWN_TOKEN');
    expect(h.api.deviceIds(reg.user_id).sort()).toEqual([reg.device_id, t3.device_id].sort());
    expect((await h.call('POST', `${CS}/logout/all`, undefined, reg.access_token)).status).toBe(200);
    expect(h.api.authenticate(reg.access_token)).toBeUndefined();
    expect(h.api.authenticate(t3.access_token)).toBeUndefined();
    expect(h.api.deviceIds(reg.user_id)).toEqual([]);
  });

  it('answers M_MISSING_TOKEN and M_UNKNOWN_TOKEN', async () => {
    const h = await harness();
    expect((await h.call('GET', `${CS}/account/whoami`)).json.errcode).toBe('M_MISSING_TOKEN');
    const bad = await h.call('GET', `${CS}/account/whoami`, undefined, 'not-a-token');
    expect(bad.status).toBe(401);
    expect(bad.json.errcode).toBe('M_UNKNOWN_TOKEN');
  });
});
}

// ---- devices ----
{
const CS = '/_matrix/client/v3';
const login = async (h: Harness, user: string, password: string) =>
  (await h.call('POST', `${CS}/login`, { type: 'm.login.password', identifier: { type: 'm.id.user', user }, password })).json;
const pwAuth = (user: string, password: string, session?: string) => ({
  type: 'm.login.password',
  identifier: { type: 'm.id.user', user },
  password,
  ...(session ? { session } : {}),
});

describe('devices', () => {
  it('lists, reads and renames devices; unknown devices are 404', async () => {
    const h = await harness();
    const r = await h.register('alice', 'pw', { device_id: 'AAA', initial_device_display_name: 'one' });
    await h.call('POST', `${CS}/login`, { type: 'm.login.password', user: 'alice', password: 'pw', device_id: 'BBB' });
    const t = r.access_token;
    expect((await h.call('GET', `${CS}/devices`, undefined, t)).json.devices.map((d: { device_id: string }) => d.device_id)).toEqual(['AAA', 'BBB']);
    expect((await h.call('PUT', `${CS}/devices/BBB`, { display_name: 'two' }, t)).status).toBe(200);
    expect((await h.call('GET', `${CS}/devices/BBB`, undefined, t)).json).toEqual({ device_id: 'BBB', display_name: 'two' });
    expect((await h.call('GET', `${CS}/devices/NOPE`, undefined, t)).json.errcode).toBe('M_NOT_FOUND');
    expect((await h.call('PUT', `${CS}/devices/NOPE`, { display_name: 'x' }, t)).json.errcode).toBe('M_NOT_FOUND');
    expect((await h.call('PUT', `${CS}/devices/BBB`, { display_name: 3 }, t)).json.errcode).toBe('M_BAD_JSON');
    // Another user's device is not visible.
    const b = await h.register('bob', 'pw');
    expect((await h.call('GET', `${CS}/devices/AAA`, undefined, b.access_token)).status).toBe(404);
  });

  it('DELETE /devices/{id} needs the password through UIA and removes the tokens', async () => {
    const h = await harness();
    const r = await h.register('alice', 'pw', { device_id: 'AAA' });
    const other = await login(h, 'alice', 'pw');
    const first = await h.call('DELETE', `${CS}/devices/${other.device_id}`, undefined, r.access_token);
    expect(first.status).toBe(401);
    expect(first.json).toEqual({ flows: [{ stages: ['m.login.password'] }], params: {}, session: expect.any(String) });
    const wrong = await h.call('DELETE', `${CS}/devices/${other.device_id}`, { auth: pwAuth('alice', 'bad', first.json.session) }, r.access_token);
    expect(wrong.status).toBe(401);
    expect(wrong.json).toMatchObject({ errcode: 'M_FORBIDDEN', session: first.json.session, flows: [{ stages: ['m.login.password'] }] });
    const notMe = await h.call('DELETE', `${CS}/devices/${other.device_id}`, { auth: pwAuth('bob', 'pw', first.json.session) }, r.access_token);
    expect(notMe.json.errcode).toBe('M_FORBIDDEN');
    const ok = await h.call('DELETE', `${CS}/devices/${other.device_id}`, { auth: pwAuth('alice', 'pw', first.json.session) }, r.access_token);
    expect(ok.status).toBe(200);
    expect(h.api.authenticate(other.access_token)).toBeUndefined();
    expect(h.api.deviceIds(r.user_id)).toEqual(['AAA']);
    expect((await h.call('DELETE', `${CS}/devices/${other.device_id}`, undefined, r.access_token)).status).toBe(404);
  });

  it('POST /delete_devices deletes several devices after UIA', async () => {
    const h = await harness();
    const r = await h.register('alice', 'pw');
    const d1 = await login(h, 'alice', 'pw');
    const d2 = await login(h, 'alice', 'pw');
    const devices = [d1.device_id, d2.device_id];
    expect((await h.call('POST', `${CS}/delete_devices`, {}, r.access_token)).json.errcode).toBe('M_MISSING_PARAM');
    const first = await h.call('POST', `${CS}/delete_devices`, { devices }, r.access_token);
    expect(first.status).toBe(401);
    const ok = await h.call('POST', `${CS}/delete_devices`, { devices, auth: pwAuth(r.user_id, 'pw', first.json.session) }, r.access_token);
    expect(ok.status).toBe(200);
    expect(h.api.deviceIds(r.user_id)).toEqual([r.device_id]);
    expect(h.api.authenticate(d1.access_token)).toBeUndefined();
  });
});

describe('account', () => {
  it('changes the password after UIA and logs out the other devices by default', async () => {
    const h = await harness();
    const r = await h.register('alice', 'old-pw');
    const other = await login(h, 'alice', 'old-pw');
    const first = await h.call('POST', `${CS}/account/password`, { new_password: 'new-pw' }, r.access_token);
    expect(first.status).toBe(401);
    const wrong = await h.call('POST', `${CS}/account/password`, { new_password: 'new-pw', auth: pwAuth('alice', 'nope', first.json.session) }, r.access_token);
    expect(wrong.json.errcode).toBe('M_FORBIDDEN');
    const ok = await h.call('POST', `${CS}/account/password`, { new_password: 'new-pw', auth: pwAuth('alice', 'old-pw', first.json.session) }, r.access_token);
    expect(ok.status).toBe(200);
    expect(h.api.authenticate(r.access_token)).toBeDefined();
    expect(h.api.authenticate(other.access_token)).toBeUndefined();
    expect((await h.call('POST', `${CS}/login`, { type: 'm.login.password', user: 'alice', password: 'old-pw' })).status).toBe(403);
    expect((await h.call('POST', `${CS}/login`, { type: 'm.login.password', user: 'alice', password: 'new-pw' })).status).toBe(200);
    expect((await h.call('POST', `${CS}/account/password`, {}, r.access_token)).json.errcode).toBe('M_MISSING_PARAM');
  });

  it('keeps other devices with logout_devices: false', async () => {
    const h = await harness();
    const r = await h.register('alice', 'pw');
    const other = await login(h, 'alice', 'pw');
    const ok = await h.call('POST', `${CS}/account/password`, { new_password: 'pw2', logout_devices: false, auth: pwAuth('alice', 'pw') }, r.access_token);
    expect(ok.status).toBe(200);
    expect(h.api.authenticate(other.access_token)).toBeDefined();
  });

  it('deactivates: no more logins, tokens gone, rooms left', async () => {
    const h = await harness();
    const r = await h.register('alice', 'pw');
    const { roomId } = await h.rs.createRoom({ creator: r.user_id, preset: 'public_chat' });
    const first = await h.call('POST', `${CS}/account/deactivate`, {}, r.access_token);
    expect(first.status).toBe(401);
    const ok = await h.call('POST', `${CS}/account/deactivate`, { auth: pwAuth('alice', 'pw', first.json.session) }, r.access_token);
    expect(ok).toEqual({ status: 200, json: { id_server_unbind_result: 'no-support' } });
    expect(h.rs.membership(roomId, r.user_id)?.membership).toBe('leave');
    expect(h.api.authenticate(r.access_token)).toBeUndefined();
    expect((await h.call('POST', `${CS}/login`, { type: 'm.login.password', user: 'alice', password: 'pw' })).json.errcode).toBe('M_FORBIDDEN');
    // The id stays taken.
    expect(h.api.accountExists(r.user_id)).toBe(true);
    expect((await h.call('GET', `${CS}/register/available?username=alice`)).json.errcode).toBe('M_USER_IN_USE');
  });
});
}

// ---- profile ----
{
const CS = '/_matrix/client/v3';
const enc = encodeURIComponent;

describe('profiles', () => {
  it('reads profiles and fields; unknown users and unset fields are 404', async () => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    expect((await h.call('GET', `${CS}/profile/${enc(a.user_id)}`)).json).toEqual({ displayname: 'alice' });
    expect((await h.call('GET', `${CS}/profile/${enc(a.user_id)}/displayname`)).json).toEqual({ displayname: 'alice' });
    expect((await h.call('GET', `${CS}/profile/${enc(a.user_id)}/avatar_url`)).json.errcode).toBe('M_NOT_FOUND');
    const ghost = `@ghost:${h.server.name}`;
    for (const p of ['', '/displayname', '/avatar_url']) {
      const r = await h.call('GET', `${CS}/profile/${enc(ghost)}${p}`);
      expect(r.status).toBe(404);
      expect(r.json.errcode).toBe('M_NOT_FOUND');
    }
    expect((await h.call('GET', `${CS}/profile/not-a-user`)).json.errcode).toBe('M_INVALID_PARAM');
  });

  it('sets only your own fields, validating them', async () => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    const b = await h.register('bob', 'pw');
    const url = `${CS}/profile/${enc(a.user_id)}`;
    expect((await h.call('PUT', `${url}/displayname`, { displayname: 'Mallory' }, b.access_token)).json.errcode).toBe('M_FORBIDDEN');
    expect((await h.call('PUT', `${url}/displayname`, { displayname: 'A' })).json.errcode).toBe('M_MISSING_TOKEN');
    expect((await h.call('PUT', `${url}/displayname`, {}, a.access_token)).json.errcode).toBe('M_MISSING_PARAM');
    expect((await h.call('PUT', `${url}/displayname`, { displayname: 7 }, a.access_token)).json.errcode).toBe('M_BAD_JSON');
    expect((await h.call('PUT', `${url}/avatar_url`, { avatar_url: 'https://x/y.png' }, a.access_token)).json.errcode).toBe('M_BAD_JSON');
    expect((await h.call('PUT', `${url}/displayname`, { displayname: 'Alice A.' }, a.access_token)).status).toBe(200);
    expect((await h.call('PUT', `${url}/avatar_url`, { avatar_url: 'mxc://srv/abc' }, a.access_token)).status).toBe(200);
    expect((await h.call('GET', url)).json).toEqual({ displayname: 'Alice A.', avatar_url: 'mxc://srv/abc' });
    expect(h.api.profile(a.user_id)).toEqual({ displayname: 'Alice A.', avatar_url: 'mxc://srv/abc' });
  });

  it('re-sends the join event with the new profile in every joined room, keeping other content', async () => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    const { roomId: r1 } = await h.rs.createRoom({ creator: a.user_id, preset: 'public_chat' });
    const { roomId: r2 } = await h.rs.createRoom({ creator: a.user_id, preset: 'public_chat' });
    await h.rs.sendEvent({ roomId: r2, sender: a.user_id, type: 'm.room.member', stateKey: a.user_id, content: { membership: 'join', 'org.example.flag': true } });
    const url = `${CS}/profile/${enc(a.user_id)}`;
    await h.call('PUT', `${url}/avatar_url`, { avatar_url: 'mxc://srv/pic' }, a.access_token);
    await h.call('PUT', `${url}/displayname`, { displayname: 'Alice' }, a.access_token);
    const m1 = h.rs.currentStateEvent(r1, 'm.room.member', a.user_id)!;
    expect(m1.content).toEqual({ membership: 'join', displayname: 'Alice', avatar_url: 'mxc://srv/pic' });
    const m2 = h.rs.currentStateEvent(r2, 'm.room.member', a.user_id)!;
    expect(m2.content).toEqual({ membership: 'join', displayname: 'Alice', avatar_url: 'mxc://srv/pic', 'org.example.flag': true });
    // Clearing a field removes it from the member event.
    await h.call('PUT', `${url}/avatar_url`, { avatar_url: '' }, a.access_token);
    expect(h.rs.currentStateEvent(r1, 'm.room.member', a.user_id)!.content).toEqual({ membership: 'join', displayname: 'Alice' });
    expect(h.api.profile(a.user_id)).toEqual({ displayname: 'Alice' });
  });
});
}

// ---- accountdata ----
{
const CS = '/_matrix/client/v3';
const enc = encodeURIComponent;
const ROOM = '!room:example.org';

describe('account data', () => {
  it('stores global and room account data per user', async () => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    const g = `${CS}/user/${enc(a.user_id)}/account_data/org.example.custom`;
    const r = `${CS}/user/${enc(a.user_id)}/rooms/${enc(ROOM)}/account_data/org.example.custom`;
    expect((await h.call('GET', g, undefined, a.access_token)).json.errcode).toBe('M_NOT_FOUND');
    expect((await h.call('PUT', g, { n: 1, deep: { x: [1, 2] } }, a.access_token)).status).toBe(200);
    expect((await h.call('GET', g, undefined, a.access_token)).json).toEqual({ n: 1, deep: { x: [1, 2] } });
    expect((await h.call('GET', r, undefined, a.access_token)).status).toBe(404);
    expect((await h.call('PUT', r, { n: 2 }, a.access_token)).status).toBe(200);
    expect((await h.call('PUT', g, { n: 3 }, a.access_token)).status).toBe(200);
    expect((await h.call('GET', r, undefined, a.access_token)).json).toEqual({ n: 2 });
    expect(h.api.accountData(a.user_id, undefined, 'org.example.custom')).toEqual({ n: 3 });
    expect(h.api.accountData(a.user_id, ROOM, 'org.example.custom')).toEqual({ n: 2 });
  });

  it.each([
    ['another user, GET', 'GET', (u: string) => `/user/${enc(u)}/account_data/t`, undefined, 403, 'M_FORBIDDEN'],
    ['another user, PUT', 'PUT', (u: string) => `/user/${enc(u)}/account_data/t`, {}, 403, 'M_FORBIDDEN'],
    ['another user, room PUT', 'PUT', (u: string) => `/user/${enc(u)}/rooms/${enc(ROOM)}/account_data/t`, {}, 403, 'M_FORBIDDEN'],
    ['m.fully_read', 'PUT', (_u: string, me: string) => `/user/${enc(me)}/account_data/m.fully_read`, { event_id: '$x' }, 405, 'M_BAD_JSON'],
    ['m.push_rules', 'PUT', (_u: string, me: string) => `/user/${enc(me)}/account_data/m.push_rules`, {}, 405, 'M_BAD_JSON'],
    ['room m.fully_read', 'PUT', (_u: string, me: string) => `/user/${enc(me)}/rooms/${enc(ROOM)}/account_data/m.fully_read`, {}, 405, 'M_BAD_JSON'],
    ['a bad room id', 'PUT', (_u: string, me: string) => `/user/${enc(me)}/rooms/notaroom/account_data/t`, {}, 400, 'M_INVALID_PARAM'],
    ['a non-object body', 'PUT', (_u: string, me: string) => `/user/${enc(me)}/account_data/t`, [1], 400, 'M_BAD_JSON'],
    ['no body', 'PUT', (_u: string, me: string) => `/user/${enc(me)}/account_data/t`, undefined, 400, 'M_NOT_JSON'],
  ])('refuses %s', async (_n, method, path, body, status, errcode) => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    const b = await h.register('bob', 'pw');
    const r = await h.call(method, CS + path(b.user_id, a.user_id), body, a.access_token);
    expect(r.status).toBe(status);
    expect(r.json.errcode).toBe(errcode);
  });

  it('tags: add, list, remove, stored as m.tag room account data', async () => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    const base = `${CS}/user/${enc(a.user_id)}/rooms/${enc(ROOM)}/tags`;
    expect((await h.call('GET', base, undefined, a.access_token)).json).toEqual({ tags: {} });
    expect((await h.call('PUT', `${base}/m.favourite`, { order: 0.25 }, a.access_token)).status).toBe(200);
    expect((await h.call('PUT', `${base}/u.work`, {}, a.access_token)).status).toBe(200);
    expect((await h.call('GET', base, undefined, a.access_token)).json).toEqual({ tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} } });
    expect(h.api.accountData(a.user_id, ROOM, 'm.tag')).toEqual({ tags: { 'm.favourite': { order: 0.25 }, 'u.work': {} } });
    expect((await h.call('DELETE', `${base}/m.favourite`, undefined, a.access_token)).status).toBe(200);
    expect((await h.call('DELETE', `${base}/never`, undefined, a.access_token)).status).toBe(200);
    expect((await h.call('GET', base, undefined, a.access_token)).json).toEqual({ tags: { 'u.work': {} } });
    expect((await h.call('PUT', `${base}/x`, { order: 2 }, a.access_token)).json.errcode).toBe('M_BAD_JSON');
    expect((await h.call('PUT', `${base}/x`, { order: 'a' }, a.access_token)).json.errcode).toBe('M_BAD_JSON');
    const b = await h.register('bob', 'pw');
    expect((await h.call('GET', base, undefined, b.access_token)).json.errcode).toBe('M_FORBIDDEN');
    expect((await h.call('DELETE', `${base}/u.work`, undefined, b.access_token)).json.errcode).toBe('M_FORBIDDEN');
  });

  it('publishes each change on the durable account-data topic and replays it after a restart', async () => {
    const h = await startHarness();
    const a = await h.register('alice', 'pw');
    const seen: LogMessage<AccountDataOutput>[] = [];
    const c = h.log.consume<AccountDataOutput>(ACCOUNT_DATA_TOPIC, { name: 'test', fromOffset: 0, handle: (m) => void seen.push(...m) });
    await h.call('PUT', `${CS}/user/${enc(a.user_id)}/account_data/a.b`, { v: 1 }, a.access_token);
    await h.call('PUT', `${CS}/user/${enc(a.user_id)}/rooms/${enc(ROOM)}/tags/t`, {}, a.access_token);
    await h.call('PUT', `${CS}/user/${enc(a.user_id)}/account_data/a.b`, { v: 2 }, a.access_token);
    await c.waitFor(3);
    expect(seen.map((m) => [m.offset, m.key, m.value])).toEqual([
      [1, a.user_id, { userId: a.user_id, type: 'a.b' }],
      [2, a.user_id, { userId: a.user_id, roomId: ROOM, type: 'm.tag' }],
      [3, a.user_id, { userId: a.user_id, type: 'a.b' }],
    ]);
    await h.close();

    const again = await harness({ registration: 'open' }, { dir: h.dir, server: h.server });
    const replayed: number[] = [];
    const c2 = again.log.consume<AccountDataOutput>(ACCOUNT_DATA_TOPIC, { name: 'late', fromOffset: 1, handle: (m) => void replayed.push(...m.map((x) => x.offset)) });
    await c2.waitFor(3);
    expect(replayed).toEqual([2, 3]);
    expect(again.api.accountData(a.user_id, undefined, 'a.b')).toEqual({ v: 2 });
    expect(again.api.authenticate(a.access_token)?.userId).toBe(a.user_id);
  });
});

describe('filters', () => {
  it('uploads and reads back filters', async () => {
    const h = await harness();
    const a = await h.register('alice', 'pw');
    const b = await h.register('bob', 'pw');
    const base = `${CS}/user/${enc(a.user_id)}/filter`;
    const f = { room: { timeline: { limit: 10, types: ['m.room.message'] } }, event_format: 'client', 'org.example': 1 };
    const r = await h.call('POST', base, f, a.access_token);
    expect(r).toEqual({ status: 200, json: { filter_id: '0' } });
    expect((await h.call('POST', base, {}, a.access_token)).json.filter_id).toBe('1');
    expect((await h.call('GET', `${base}/0`, undefined, a.access_token)).json).toEqual(f);
    expect(h.api.filter(a.user_id, '0')).toEqual(f);
    expect((await h.call('GET', `${base}/9`, undefined, a.access_token)).json.errcode).toBe('M_NOT_FOUND');
    expect((await h.call('GET', `${base}/abc`, undefined, a.access_token)).json.errcode).toBe('M_NOT_FOUND');
    expect((await h.call('GET', `${base}/0`, undefined, b.access_token)).json.errcode).toBe('M_FORBIDDEN');
    expect((await h.call('POST', base, {}, b.access_token)).json.errcode).toBe('M_FORBIDDEN');
    expect((await h.call('POST', base, { event_format: 'xml' }, a.access_token)).json.errcode).toBe('M_BAD_JSON');
    expect((await h.call('POST', base, { room: { timeline: { limit: -1 } } }, a.access_token)).json.errcode).toBe('M_BAD_JSON');
  });
});
}
