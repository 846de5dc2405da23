import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig, type AxonConfig } from '../config.js';
import { encodeBase64, generateKeyPair, signJson, type SigningKey } from '../crypto/index.js';
import { createNode, type AxonNode } from '../node.js';
import { TO_DEVICE_TOPIC, type ToDeviceOutput } from '../todevice/index.js';
import { tmpDir } from './fixtures.js';
import { TEST_P2P, clientCall, registerUser, startTestNode, type ResponseJson } from './node.js';
import { expectMatchesSpec, specMissing } from './openapi.js';

/** The key server, key backup and to-device messages over real HTTP on a real node. */

interface Device {
  userId: string;
  deviceId: string;
  token: string;
  key: SigningKey;
}

let node: AxonNode;
let url: string;
let dir: string;

async function start(dataDir: string): Promise<void> {
  node = createNode(defaultConfig(dataDir, { http: { host: '127.0.0.1', port: 0 }, logLevel: 'silent', rateLimit: 0, p2p: TEST_P2P } as Partial<AxonConfig>));
  ({ url } = await node.start());
}

beforeAll(async () => {
  dir = tmpDir('axon-e2ee-');
  await start(dir);
});
afterAll(async () => {
  await node.stop();
});

const call = (d: Device, method: string, path: string, body?: unknown) => clientCall(url, method, path, d.token, body);

function spec(method: string, specPath: string, status: number, body: unknown): void {
  if (!specMissing) expectMatchesSpec(method, specPath, status, body);
}

async function ok(d: Device, method: string, path: string, specPath: string, body?: unknown): Promise<ResponseJson> {
  const r = await call(d, method, path, body);
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(r.body)}`);
  spec(method, specPath, 200, r.body);
  return r.body;
}

async function user(name: string): Promise<Device> {
  const r = await registerUser(url, name, `pw-${name}`);
  return { userId: r.user_id, deviceId: r.device_id, token: r.access_token, key: generateKeyPair(`ed25519:${r.device_id}`) };
}

async function loginAgain(d: Device, name: string): Promise<Device> {
  const res = await fetch(`${url}/_matrix/client/v3/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ type: 'm.login.password', identifier: { type: 'm.id.user', user: name }, password: `pw-${name}` }),
  });
  const r = (await res.json()) as { device_id: string; access_token: string };
  return { userId: d.userId, deviceId: r.device_id, token: r.access_token, key: generateKeyPair(`ed25519:${r.device_id}`) };
}

function deviceKeys(d: Device, signWith: SigningKey = d.key): ResponseJson {
  const keys = {
    user_id: d.userId,
    device_id: d.deviceId,
    algorithms: ['m.olm.v1.curve25519-aes-sha2', 'm.megolm.v1.aes-sha2'],
    keys: { [`curve25519:${d.deviceId}`]: encodeBase64(generateKeyPair().publicKey), [`ed25519:${d.deviceId}`]: encodeBase64(d.key.publicKey) },
  };
  return signJson(keys, d.userId, { ...signWith, keyId: `ed25519:${d.deviceId}` });
}

function signedKey(d: Device, extra: Record<string, unknown> = {}): ResponseJson {
  return signJson({ key: encodeBase64(generateKeyPair().publicKey), ...extra }, d.userId, d.key);
}

async function sync(d: Device, since?: string, timeout = 0): Promise<ResponseJson> {
  const qs = new URLSearchParams({ timeout: String(timeout), ...(since ? { since } : {}) });
  return ok(d, 'GET', `/sync?${qs}`, '/sync');
}

async function sharedRoom(a: Device, b: Device): Promise<string> {
  const { room_id } = await ok(a, 'POST', '/createRoom', '/createRoom', { invite: [b.userId] });
  await ok(b, 'POST', `/join/${encodeURIComponent(room_id as string)}`, '/join/{roomIdOrAlias}', {});
  await node.sync.caughtUp();
  return room_id as string;
}

describe('key server', () => {
  it('uploads, queries and claims keys: one-time keys first, then the fallback key; counts in sync', async () => {
    const alice = await user('k-alice');
    const bob = await user('k-bob');
    const dk = deviceKeys(bob);
    const up = await ok(bob, 'POST', '/keys/upload', '/keys/upload', {
      device_keys: dk,
      one_time_keys: { 'signed_curve25519:AAAAAQ': signedKey(bob), 'signed_curve25519:AAAAAg': signedKey(bob) },
      fallback_keys: { 'signed_curve25519:AAAAAw': signedKey(bob, { fallback: true }) },
    });
    expect(up.one_time_key_counts).toEqual({ signed_curve25519: 2 });
    const s0 = await sync(bob);
    expect(s0.device_one_time_keys_count).toEqual({ signed_curve25519: 2 });
    expect(s0.device_unused_fallback_key_types).toEqual(['signed_curve25519']);

    const q = await ok(alice, 'POST', '/keys/query', '/keys/query', { device_keys: { [bob.userId]: [] } });
    const got = q.device_keys[bob.userId][bob.deviceId];
    expect({ ...got, unsigned: undefined }).toEqual({ ...dk, unsigned: undefined });
    expect(q.failures).toEqual({});

    const claim = () => ok(alice, 'POST', '/keys/claim', '/keys/claim', { one_time_keys: { [bob.userId]: { [bob.deviceId]: 'signed_curve25519' } } });
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(Object.keys((await claim()).one_time_keys[bob.userId][bob.deviceId]));
    // Two one-time keys, each once; then the fallback key, again and again.
    expect(ids).toEqual([['signed_curve25519:AAAAAQ'], ['signed_curve25519:AAAAAg'], ['signed_curve25519:AAAAAw'], ['signed_curve25519:AAAAAw']]);
    const s1 = await sync(bob, s0.next_batch as string);
    expect(s1.device_one_time_keys_count).toEqual({ signed_curve25519: 0 });
    expect(s1.device_unused_fallback_key_types).toEqual([]);

    // Unknown users and devices: an empty result, not an error.
    const none = await ok(alice, 'POST', '/keys/claim', '/keys/claim', {
      one_time_keys: { [`@nobody:${node.serverName}`]: { DEV: 'signed_curve25519' }, [bob.userId]: { NOSUCHDEVICE: 'signed_curve25519' } },
    });
    expect(none.one_time_keys).toEqual({});
    // A remote user lands in failures until federation fills the seam.
    const remote = await ok(alice, 'POST', '/keys/query', '/keys/query', { device_keys: { '@x:elsewhere.example': [] } });
    expect(Object.keys(remote.failures)).toEqual(['elsewhere.example']);
  });

  it('answers bad keys with the spec errors', async () => {
    const carol = await user('k-carol');
    const dave = await user('k-dave');
    const err = async (body: unknown, status: number, errcode: string) => {
      const r = await call(carol, 'POST', '/keys/upload', body);
      expect([r.status, r.body.errcode]).toEqual([status, errcode]);
    };
    const unsigned = deviceKeys(carol);
    delete unsigned.signatures;
    await err({ device_keys: unsigned }, 400, 'M_INVALID_SIGNATURE');
    await err({ device_keys: deviceKeys(carol, generateKeyPair()) }, 400, 'M_INVALID_SIGNATURE');
    await err({ device_keys: deviceKeys(dave) }, 400, 'M_INVALID_PARAM');
    await err({ device_keys: { ...deviceKeys(carol), keys: 'no' } }, 400, 'M_BAD_JSON');
    await err({ device_keys: deviceKeys(carol), one_time_keys: { nocolon: signedKey(carol) } }, 400, 'M_BAD_JSON');
    await err({ device_keys: deviceKeys(carol), one_time_keys: { 'signed_curve25519:A': 'bare-string' } }, 400, 'M_BAD_JSON');
    await err({ device_keys: deviceKeys(carol), one_time_keys: { 'signed_curve25519:A': signJson({ key: 'k' }, carol.userId, generateKeyPair(`ed25519:${carol.deviceId}`)) } }, 400, 'M_INVALID_SIGNATURE');
    // Nothing was stored by the failed uploads.
    const q = await ok(dave, 'POST', '/keys/query', '/keys/query', { device_keys: { [carol.userId]: [] } });
    expect(q.device_keys[carol.userId]).toEqual({});
    const c = await call(carol, 'POST', '/keys/claim', { one_time_keys: { [dave.userId]: { [dave.deviceId]: 7 } } });
    expect([c.status, c.body.errcode]).toEqual([400, 'M_BAD_JSON']);
  });

  it('tracks device lists: changes in sync and /keys/changes for users sharing a room; a deleted device loses its keys', async () => {
    const erin = await user('k-erin');
    const frank = await user('k-frank');
    const outsider = await user('k-outsider');
    await sharedRoom(erin, frank);
    const e0 = (await sync(erin)).next_batch as string;
    const o0 = (await sync(outsider)).next_batch as string;
    const frank2 = await loginAgain(frank, 'k-frank');
    // A new device alone (no keys yet) already changes frank's device list.
    expect((await sync(erin, e0, 5000)).device_lists.changed).toEqual([frank.userId]);
    await ok(frank2, 'POST', '/keys/upload', '/keys/upload', { device_keys: deviceKeys(frank2) });
    const e1 = await sync(erin, e0, 5000);
    expect(e1.device_lists.changed).toContain(frank.userId);
    const changes = await ok(erin, 'GET', `/keys/changes?from=${e0}&to=${e1.next_batch}`, '/keys/changes');
    expect(changes.changed).toEqual([frank.userId]);
    // Someone who shares no room hears nothing.
    const o1 = await sync(outsider, o0);
    expect(o1.device_lists.changed).toEqual([]);

    // Deleting the device (UIA with the password) deletes its keys and tells erin.
    const del = await call(frank, 'DELETE', `/devices/${frank2.deviceId}`, { auth: { type: 'm.login.password', identifier: { type: 'm.id.user', user: 'k-frank' }, password: 'pw-k-frank' } });
    expect(del.status).toBe(200);
    const q = await ok(erin, 'POST', '/keys/query', '/keys/query', { device_keys: { [frank.userId]: [] } });
    expect(q.device_keys[frank.userId]).toEqual({});
    const e2 = await sync(erin, e1.next_batch as string, 5000);
    expect(e2.device_lists.changed).toContain(frank.userId);

    // Leaving the only shared room puts frank in `left`.
    const rooms = (await ok(frank, 'GET', '/joined_rooms', '/joined_rooms')).joined_rooms as string[];
    await ok(frank, 'POST', `/rooms/${encodeURIComponent(rooms[0]!)}/leave`, '/rooms/{roomId}/leave', {});
    await node.sync.caughtUp();
    const e3 = await sync(erin, e2.next_batch as string);
    expect(e3.device_lists.left).toEqual([frank.userId]);
    const afterLeave = await ok(erin, 'GET', `/keys/changes?from=${e2.next_batch}&to=${e3.next_batch}`, '/keys/changes');
    expect(afterLeave).toEqual({ changed: [], left: [frank.userId] });
  });

  it('cross-signing: first upload without UIA, then UIA; signatures checked', async () => {
    const gina = await user('k-gina');
    await ok(gina, 'POST', '/keys/upload', '/keys/upload', { device_keys: deviceKeys(gina) });
    const csKey = (usage: string, k: SigningKey, signer?: SigningKey) => {
      const pub = encodeBase64(k.publicKey);
      const obj = { user_id: gina.userId, usage: [usage], keys: { [`ed25519:${pub}`]: pub } };
      return signer ? signJson(obj, gina.userId, { ...signer, keyId: `ed25519:${encodeBase64(signer.publicKey)}` }) : obj;
    };
    const master = generateKeyPair();
    const selfSigning = generateKeyPair();
    const bad = await call(gina, 'POST', '/keys/device_signing/upload', { master_key: csKey('master', master), self_signing_key: csKey('self_signing', selfSigning, generateKeyPair()) });
    expect([bad.status, bad.body.errcode]).toEqual([400, 'M_INVALID_SIGNATURE']);
    await ok(gina, 'POST', '/keys/device_signing/upload', '/keys/device_signing/upload', { master_key: csKey('master', master), self_signing_key: csKey('self_signing', selfSigning, master) });
    // Replacing them needs the password.
    const master2 = generateKeyPair();
    const challenge = await call(gina, 'POST', '/keys/device_signing/upload', { master_key: csKey('master', master2) });
    expect(challenge.status).toBe(401);
    expect(challenge.body.flows).toEqual([{ stages: ['m.login.password'] }]);
    expect(challenge.body.session).toBeTypeOf('string');
    const wrong = await call(gina, 'POST', '/keys/device_signing/upload', { master_key: csKey('master', master2), auth: { type: 'm.login.password', session: challenge.body.session, identifier: { type: 'm.id.user', user: 'k-gina' }, password: 'nope' } });
    expect([wrong.status, wrong.body.errcode]).toEqual([401, 'M_FORBIDDEN']);

    // Signing the device with the self-signing key: a good signature is stored, a bad one fails.
    const device = (await ok(gina, 'POST', '/keys/query', '/keys/query', { device_keys: { [gina.userId]: [] } })).device_keys[gina.userId][gina.deviceId];
    delete device.unsigned;
    const sskId = `ed25519:${encodeBase64(selfSigning.publicKey)}`;
    const good = signJson(device, gina.userId, { ...selfSigning, keyId: sskId });
    const res = await ok(gina, 'POST', '/keys/signatures/upload', '/keys/signatures/upload', { [gina.userId]: { [gina.deviceId]: good } });
    expect(res.failures).toEqual({});
    const forged = signJson(device, gina.userId, { ...generateKeyPair(), keyId: sskId });
    const res2 = await ok(gina, 'POST', '/keys/signatures/upload', '/keys/signatures/upload', { [gina.userId]: { [gina.deviceId]: forged } });
    expect(res2.failures[gina.userId][gina.deviceId].errcode).toBe('M_INVALID_SIGNATURE');
    const q = await ok(gina, 'POST', '/keys/query', '/keys/query', { device_keys: { [gina.userId]: [] } });
    expect(q.device_keys[gina.userId][gina.deviceId].signatures[gina.userId][sskId]).toBe(good.signatures[gina.userId][sskId]);
    // An object with no canonical form, and an unknown key: failures, not errors.
    const odd = await ok(gina, 'POST', '/keys/signatures/upload', '/keys/signatures/upload', { [gina.userId]: { [gina.deviceId]: { ...good, extra: 1.5 }, NOSUCH: good } });
    expect(odd.failures[gina.userId][gina.deviceId].errcode).toBe('M_INVALID_PARAM');
    expect(odd.failures[gina.userId].NOSUCH.errcode).toBe('M_NOT_FOUND');
    // Federation's prev_id for device list updates: each change points at the one before.
    const head = node.users.keys.changeHead();
    const prev = node.users.keys.previousChange(gina.userId, head + 1);
    expect(prev).toBe(head);
    expect(node.users.keys.previousChange(gina.userId, prev!)).toBeLessThan(prev!);
  });
});

describe('junk input', () => {
  it('never gets a 500 from the E2EE endpoints', async () => {
    const z = await user('j-zed');
    const routes: Array<[string, string]> = [
      ['POST', '/keys/upload'],
      ['POST', '/keys/query'],
      ['POST', '/keys/claim'],
      ['GET', '/keys/changes?from=x&to=y'],
      ['POST', '/keys/device_signing/upload'],
      ['POST', '/keys/signatures/upload'],
      ['POST', '/room_keys/version'],
      ['PUT', '/room_keys/version/abc'],
      ['PUT', '/room_keys/keys?version=1'],
      ['PUT', '/room_keys/keys/r?version=99999999999999999999'],
      ['PUT', '/room_keys/keys/r/s?version=-1'],
      ['GET', '/room_keys/keys?version=x'],
      ['DELETE', '/room_keys/keys/r/s?version=1'],
      ['PUT', '/sendToDevice/m.x/t1'],
    ];
    const bodies: unknown[] = [
      [],
      'text',
      { device_keys: [] },
      { device_keys: { a: 1 }, one_time_keys: { 'x:y': { key: 1 } } },
      { one_time_keys: { '@a:b': { D: 'x' } }, master_key: { keys: {} } },
      { messages: { '@a:b': { '*': 'x' } } },
      { '@a:b': { K: { user_id: 1, keys: { a: 1.5 } } } },
      { rooms: { r: { sessions: { s: { first_message_index: -1 } } } }, algorithm: 7 },
      { sessions: null, auth_data: [] },
    ];
    for (const [method, path] of routes) {
      for (const body of bodies) {
        const r = await fetch(`${url}/_matrix/client/v3${path}`, { method, headers: { Authorization: `Bearer ${z.token}`, 'Content-Type': 'application/json' }, body: method === 'GET' ? undefined : JSON.stringify(body) });
        const json = (await r.json()) as ResponseJson;
        expect([method, path, body, r.status < 500]).toEqual([method, path, body, true]);
        if (r.status >= 400) expect(json.errcode).toMatch(/^M_/);
      }
    }
  });
});

describe('federation seams of the key server', () => {
  it('asks remote servers through remote.queryKeys/claimKeys, and remote key changes reach device_lists', async () => {
    const nia = await user('f-nia');
    const keys = node.users.keys;
    const asked: string[] = [];
    const far = { userId: '@far:elsewhere.example', deviceId: 'FARDEV', token: '', key: generateKeyPair('ed25519:FARDEV') };
    const farKeys = deviceKeys(far);
    const farOtk = signedKey(far);
    keys.remote = {
      queryKeys: async (server, users) => {
        asked.push(`query ${server} ${Object.keys(users).join(',')}`);
        return { device_keys: { '@far:elsewhere.example': { FARDEV: farKeys }, '@sneaky:other.example': {} } };
      },
      claimKeys: async (server) => {
        if (server === 'down.example') throw new Error('unreachable');
        return { one_time_keys: { '@far:elsewhere.example': { FARDEV: { 'signed_curve25519:x': farOtk } } } };
      },
    };
    try {
      const q = await ok(nia, 'POST', '/keys/query', '/keys/query', { device_keys: { '@far:elsewhere.example': [] } });
      // Only the users asked for: what a server says about others is dropped.
      expect(q.device_keys).toEqual({ '@far:elsewhere.example': { FARDEV: farKeys } });
      expect(asked).toEqual(['query elsewhere.example @far:elsewhere.example']);
      const c = await ok(nia, 'POST', '/keys/claim', '/keys/claim', { one_time_keys: { '@far:elsewhere.example': { FARDEV: 'signed_curve25519' }, '@x:down.example': { D: 'signed_curve25519' } } });
      expect(c.one_time_keys['@far:elsewhere.example'].FARDEV).toEqual({ 'signed_curve25519:x': farOtk });
      expect(Object.keys(c.failures)).toEqual(['down.example']);
    } finally {
      keys.remote = {};
    }
    // A remote member of a shared room: their key change shows up in sync.
    const room = (await ok(nia, 'POST', '/createRoom', '/createRoom', {})).room_id as string;
    const n0 = (await sync(nia)).next_batch as string;
    keys.remoteKeysChanged('@far:elsewhere.example', 'device', 'FARDEV');
    // Not sharing a room with them: nothing.
    expect((await sync(nia, n0)).device_lists.changed).toEqual([]);
    expect(room).toMatch(/^!/);
  });
});

describe('key backup', () => {
  it('versions, keys at three levels with etag and count, the better key wins, the wrong version is refused', async () => {
    const h = await user('b-hana');
    const none = await call(h, 'GET', '/room_keys/version');
    expect([none.status, none.body.errcode]).toEqual([404, 'M_NOT_FOUND']);
    const v1 = (await ok(h, 'POST', '/room_keys/version', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'abc' } })).version as string;
    const key = (first: number, verified = false, forwarded = 0) => ({ first_message_index: first, forwarded_count: forwarded, is_verified: verified, session_data: { ciphertext: `c${first}${verified}${forwarded}` } });
    const put1 = await ok(h, 'PUT', `/room_keys/keys/!r:x/s1?version=${v1}`, '/room_keys/keys/{roomId}/{sessionId}', key(5));
    expect(put1.count).toBe(1);
    // A worse key (later index) does not replace it, and the etag stays.
    const put2 = await ok(h, 'PUT', `/room_keys/keys/!r:x/s1?version=${v1}`, '/room_keys/keys/{roomId}/{sessionId}', key(9));
    expect(put2.etag).toBe(put1.etag);
    expect((await ok(h, 'GET', `/room_keys/keys/!r:x/s1?version=${v1}`, '/room_keys/keys/{roomId}/{sessionId}')).first_message_index).toBe(5);
    // A verified key beats an unverified one even with a later index.
    const put3 = await ok(h, 'PUT', `/room_keys/keys/!r:x?version=${v1}`, '/room_keys/keys/{roomId}', { sessions: { s1: key(7, true), s2: key(0) } });
    expect(put3.count).toBe(2);
    expect(put3.etag).not.toBe(put1.etag);
    const all = await ok(h, 'GET', `/room_keys/keys?version=${v1}`, '/room_keys/keys');
    expect(all.rooms['!r:x'].sessions.s1).toEqual(key(7, true));
    const info = await ok(h, 'GET', '/room_keys/version', '/room_keys/version');
    expect(info).toMatchObject({ version: v1, count: 2, etag: put3.etag, auth_data: { public_key: 'abc' } });

    const v2 = (await ok(h, 'POST', '/room_keys/version', '/room_keys/version', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'def' } })).version as string;
    const old = await call(h, 'PUT', `/room_keys/keys?version=${v1}`, { rooms: { '!r:x': { sessions: { s3: key(0) } } } });
    expect([old.status, old.body.errcode, old.body.current_version]).toEqual([403, 'M_WRONG_ROOM_KEYS_VERSION', v2]);
    await ok(h, 'PUT', `/room_keys/version/${v2}`, '/room_keys/version/{version}', { algorithm: 'm.megolm_backup.v1.curve25519-aes-sha2', auth_data: { public_key: 'ghi' } });
    expect((await ok(h, 'GET', `/room_keys/version/${v2}`, '/room_keys/version/{version}')).auth_data).toEqual({ public_key: 'ghi' });
    const del = await ok(h, 'DELETE', `/room_keys/keys/!r:x?version=${v1}`, '/room_keys/keys/{roomId}');
    expect(del.count).toBe(0);
    await ok(h, 'DELETE', `/room_keys/version/${v2}`, '/room_keys/version/{version}');
    expect((await ok(h, 'GET', '/room_keys/version', '/room_keys/version')).version).toBe(v1);
    const gone = await call(h, 'GET', `/room_keys/version/${v2}`);
    expect([gone.status, gone.body.errcode]).toEqual([404, 'M_NOT_FOUND']);
    const missing = await call(h, 'PUT', '/room_keys/keys', { rooms: {} });
    expect([missing.status, missing.body.errcode]).toEqual([400, 'M_MISSING_PARAM']);
  });
});

describe('to-device messages', () => {
  it('are delivered in order, exactly once, to one device or all; a new one wakes a waiting sync; oversized ones are refused', async () => {
    const ivy = await user('t-ivy');
    const jon = await user('t-jon');
    const jon2 = await loginAgain(jon, 't-jon');
    const t0 = (await sync(jon)).next_batch as string;
    const t0b = (await sync(jon2)).next_batch as string;
    const send = (txn: string, messages: Record<string, Record<string, unknown>>) => ok(ivy, 'PUT', `/sendToDevice/m.test/${txn}`, '/sendToDevice/{eventType}/{txnId}', { messages });
    await send('t1', { [jon.userId]: { [jon.deviceId]: { n: 1 } } });
    await send('t2', { [jon.userId]: { '*': { n: 2 } } });
    await send('t2', { [jon.userId]: { '*': { n: 2 } } }); // a retry: ignored
    await send('t3', { [jon.userId]: { [jon.deviceId]: { n: 3 } } });
    const s1 = await sync(jon, t0);
    expect(s1.to_device.events).toEqual([1, 2, 3].map((n) => ({ sender: ivy.userId, type: 'm.test', content: { n } })));
    // Not acknowledged yet: the same since gives them again.
    expect((await sync(jon, t0)).to_device.events).toHaveLength(3);
    // Acknowledged by the next since: gone.
    expect((await sync(jon, s1.next_batch as string)).to_device.events).toEqual([]);
    expect((await sync(jon2, t0b)).to_device.events.map((e: ResponseJson) => e.content.n)).toEqual([2]);

    // A waiting /sync wakes up on a message.
    const before = Date.now();
    const waiting = sync(jon, s1.next_batch as string, 20_000);
    await new Promise((r) => setTimeout(r, 100));
    await send('t4', { [jon.userId]: { [jon.deviceId]: { n: 4 } } });
    const woke = await waiting;
    expect(woke.to_device.events.map((e: ResponseJson) => e.content.n)).toEqual([4]);
    expect(Date.now() - before).toBeLessThan(5000);

    const big = await call(ivy, 'PUT', '/sendToDevice/m.test/big', { messages: { [jon.userId]: { [jon.deviceId]: { pad: 'x'.repeat(70 * 1024) } } } });
    expect([big.status, big.body.errcode]).toEqual([413, 'M_TOO_LARGE']);
    const badUser = await call(ivy, 'PUT', '/sendToDevice/m.test/bad', { messages: { 'not-a-user': { D: {} } } });
    expect([badUser.status, badUser.body.errcode]).toEqual([400, 'M_INVALID_PARAM']);
  });

  it('hands remote recipients to federation on the to-device topic and takes in EDUs once', async () => {
    const max = await user('t-max');
    const seenOnTopic: ToDeviceOutput[] = [];
    const consumer = node.log.consume<ToDeviceOutput>(TO_DEVICE_TOPIC, { name: 'test-federation', fromOffset: node.toDevice.maxPos(), handle: (msgs) => void seenOnTopic.push(...msgs.map((m) => m.value)) });
    await ok(max, 'PUT', '/sendToDevice/m.test/remote1', '/sendToDevice/{eventType}/{txnId}', { messages: { '@far:elsewhere.example': { '*': { hi: 1 } } } });
    await consumer.drained();
    await consumer.close();
    expect(seenOnTopic).toEqual([expect.objectContaining({ sender: max.userId, userId: '@far:elsewhere.example', deviceId: '*', content: { hi: 1 }, remote: true })]);

    // An incoming m.direct_to_device EDU reaches the local device once, even when retried.
    const t0 = (await sync(max)).next_batch as string;
    const edu = { sender: '@far:elsewhere.example', type: 'm.test', message_id: 'm1', messages: { [max.userId]: { '*': { from: 'far' } } } };
    expect(node.toDevice.receive('elsewhere.example', edu)).toBe(true);
    expect(node.toDevice.receive('elsewhere.example', edu)).toBe(false);
    // A sender from another server than the origin is refused.
    expect(node.toDevice.receive('liar.example', { ...edu, message_id: 'm2' })).toBe(false);
    const s = await sync(max, t0);
    expect(s.to_device.events).toEqual([{ sender: '@far:elsewhere.example', type: 'm.test', content: { from: 'far' } }]);
  });

  it('keeps unacknowledged messages across a restart: same order, exactly once', async () => {
    const kim = await user('t-kim');
    const lee = await user('t-lee');
    const t0 = (await sync(lee)).next_batch as string;
    for (let n = 1; n <= 5; n++) await call(kim, 'PUT', `/sendToDevice/m.test/r${n}`, { messages: { [lee.userId]: { [lee.deviceId]: { n } } } });
    const seen = await sync(lee, t0);
    expect(seen.to_device.events.map((e: ResponseJson) => e.content.n)).toEqual([1, 2, 3, 4, 5]);

    await node.stop();
    await start(dir);
    // The client never acknowledged: the same since delivers the same messages.
    const again = await sync(lee, t0);
    expect(again.to_device.events.map((e: ResponseJson) => e.content.n)).toEqual([1, 2, 3, 4, 5]);
    // A retried transaction from before the restart is still a duplicate.
    await call(kim, 'PUT', '/sendToDevice/m.test/r5', { messages: { [lee.userId]: { [lee.deviceId]: { n: 5 } } } });
    await call(kim, 'PUT', '/sendToDevice/m.test/r6', { messages: { [lee.userId]: { [lee.deviceId]: { n: 6 } } } });
    const next = await sync(lee, again.next_batch as string);
    expect(next.to_device.events.map((e: ResponseJson) => e.content.n)).toEqual([6]);
    expect((await sync(lee, next.next_batch as string)).to_device.events).toEqual([]);
  });
});
