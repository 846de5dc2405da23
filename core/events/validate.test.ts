import { describe, expect, it } from 'vitest';
import { canonicalJson, generateKeyPair } from '../crypto/index.js';
import { buildEvent } from './builder.js';
import { computeEventId } from './hashes.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from './roomversions.js';
import type { JsonObject, PDUJson } from './types.js';
import { MAX_PDU_BYTES, validatePDU } from './validate.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const KEY = generateKeyPair();
const HASH_URL = 'Rqnc-F-dvnEYJTyHq_iKxU2bZ1CI92-kuZq3a5lr5Zg';
const HASH_STD = 'Rqnc+F+dvnEYJTyHq/iKxU2bZ1CI92+kuZq3a5lr5Zg';

function roomIdFor(version: RoomVersion): string {
  return version.roomIdFromCreate ? `!${HASH_URL}` : '!r:s.org';
}

/** A valid signed message event of the given version. */
function message(versionId: string, content: JsonObject = { body: 'hi' }): PDUJson {
  const version = v(versionId);
  const lookup = (): PDUJson => ({ ...make(version), event_id: '$p:s.org' });
  const prev = version.eventIdFormat === 'v1' ? ['$p:s.org'] : [version.eventIdFormat === 'v3' ? `$${HASH_STD}` : `$${HASH_URL}`];
  return buildEvent(
    { version, roomId: roomIdFor(version), type: 'm.room.message', sender: '@a:s.org', content, prevEvents: prev, authEvents: prev, depth: 2 },
    's.org',
    KEY,
    lookup,
  ).pdu;
}

function make(version: RoomVersion): PDUJson {
  return buildEvent(
    { version, roomId: roomIdFor(version), type: 'm.room.message', sender: '@a:s.org', content: {}, prevEvents: [], authEvents: [], depth: 1 },
    's.org',
    KEY,
  ).pdu;
}

function expectInvalid(pdu: unknown, versionId: string, reason: RegExp): void {
  const r = validatePDU(pdu, v(versionId));
  expect(r.ok).toBe(false);
  if (!r.ok) expect(r.reason).toMatch(reason);
}

describe('validatePDU accepts well-formed events', () => {
  it.each([...ROOM_VERSIONS.keys()])('v%s', (id) => {
    const pdu = message(id);
    expect(validatePDU(pdu, v(id))).toEqual({ ok: true, pdu });
    expect(validatePDU(JSON.parse(JSON.stringify(pdu)), v(id)).ok).toBe(true);
  });

  it('accepts historical sender localparts over federation', () => {
    expect(validatePDU({ ...message('10'), sender: '@Old User:s.org' }, v('10')).ok).toBe(true);
  });
});

describe('size limits', () => {
  /** The message with its body padded so that the whole PDU is exactly `bytes` long. */
  function sized(bytes: number, char: string): PDUJson {
    const base = message('10', { body: '' });
    const room = bytes - Buffer.byteLength(canonicalJson(base), 'utf8');
    const charBytes = Buffer.byteLength(char, 'utf8');
    const body = char.repeat(Math.floor(room / charBytes)) + 'x'.repeat(room % charBytes);
    return { ...base, content: { body } };
  }

  it('allows 65,536 bytes of canonical JSON and rejects one more', () => {
    for (const char of ['x', 'é', '日']) {
      const max = sized(MAX_PDU_BYTES, char);
      expect(Buffer.byteLength(canonicalJson(max), 'utf8')).toBe(MAX_PDU_BYTES);
      expect(validatePDU(max, v('10')).ok).toBe(true);
      expectInvalid(sized(MAX_PDU_BYTES + 1, char), '10', /65536 bytes/);
    }
  });

  it('counts signatures and unsigned too', () => {
    const max = sized(MAX_PDU_BYTES, 'x');
    expectInvalid({ ...max, unsigned: { a: 1 } }, '10', /65536 bytes/);
    expectInvalid({ ...max, signatures: { ...max.signatures, 'o.org': { 'ed25519:a': 'x' } } }, '10', /65536 bytes/);
  });

  it('limits type and state_key to 255 bytes, and ids to 255 bytes', () => {
    expect(validatePDU({ ...message('10'), type: 't'.repeat(255) }, v('10')).ok).toBe(true);
    expectInvalid({ ...message('10'), type: 't'.repeat(256) }, '10', /type/);
    expectInvalid({ ...message('10'), type: 'é'.repeat(128) }, '10', /type/);
    expect(validatePDU({ ...message('10'), state_key: 'k'.repeat(255) }, v('10')).ok).toBe(true);
    expectInvalid({ ...message('10'), state_key: 'k'.repeat(256) }, '10', /state_key/);
    expectInvalid({ ...message('10'), sender: `@${'a'.repeat(250)}:s.org` }, '10', /sender/);
    expectInvalid({ ...message('10'), room_id: `!${'a'.repeat(250)}:s.org` }, '10', /room_id/);
    expectInvalid({ ...message('1'), event_id: `$${'a'.repeat(250)}:s.org` }, '1', /event_id/);
  });

  it('limits prev_events to 20 and auth_events to 10', () => {
    const ids = (n: number) => Array.from({ length: n }, () => `$${HASH_URL}`);
    expect(validatePDU({ ...message('10'), prev_events: ids(20), auth_events: ids(10) }, v('10')).ok).toBe(true);
    expectInvalid({ ...message('10'), prev_events: ids(21) }, '10', /prev_events/);
    expectInvalid({ ...message('10'), auth_events: ids(11) }, '10', /auth_events/);
  });
});

describe('identifiers', () => {
  it.each([
    ['sender without sigil', '10', { sender: 'a:s.org' }, /sender/],
    ['sender with a bad server', '10', { sender: '@a:bad_server' }, /sender/],
    ['sender with NUL', '10', { sender: '@a\u0000:s.org' }, /sender/],
    ['room id without server (pre-v12)', '11', { room_id: `!${HASH_URL}` }, /room_id/],
    ['room id with server (v12)', '12', { room_id: '!r:s.org' }, /room_id/],
    ['room id of the wrong sigil', '10', { room_id: '#r:s.org' }, /room_id/],
    ['v1 event_id missing', '1', { event_id: undefined }, /event_id/],
    ['v1 event_id without server', '1', { event_id: '$abc' }, /event_id/],
    ['v1 reference that is a plain id', '1', { prev_events: ['$p:s.org'] }, /prev_events/],
    ['v1 reference without hash', '2', { auth_events: [['$p:s.org', {}]] }, /auth_events/],
    ['v3 reference in the URL-safe alphabet', '3', { prev_events: [`$${HASH_URL}`] }, /prev_events/],
    ['v4 reference in the standard alphabet', '4', { auth_events: [`$${HASH_STD}`] }, /auth_events/],
    ['v11 reference in the v1 format', '11', { prev_events: ['$p:s.org'] }, /prev_events/],
    ['v10 redacts that is not an event id', '10', { redacts: 'nope' }, /redacts/],
  ])('rejects %s', (_name, versionId, change, reason) => {
    expectInvalid({ ...message(versionId), ...change }, versionId, reason);
  });

  it('rejects a v12 create event carrying a room_id', () => {
    const version = v('12');
    const create = buildEvent(
      { version, type: 'm.room.create', stateKey: '', sender: '@a:s.org', content: {}, prevEvents: [], authEvents: [], depth: 1 },
      's.org',
      KEY,
    ).pdu;
    expect(validatePDU(create, version).ok).toBe(true);
    expectInvalid({ ...create, room_id: `!${HASH_URL}` }, '12', /room_id/);
  });

  it('drops a stray event_id from v3+ events without changing their id', () => {
    const pdu = message('11');
    const r = validatePDU({ ...pdu, event_id: '$forged:evil.org' }, v('11'));
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.pdu.event_id).toBeUndefined();
      expect(computeEventId(r.pdu, v('11'))).toBe(computeEventId(pdu, v('11')));
    }
  });
});

describe('field types', () => {
  it.each([
    ['type missing', { type: undefined }, /type/],
    ['type not a string', { type: 5 }, /type/],
    ['state_key not a string', { state_key: 0 }, /state_key/],
    ['content not an object', { content: [] }, /content/],
    ['content null', { content: null }, /content/],
    ['depth a string', { depth: '2' }, /depth/],
    ['depth negative', { depth: -1 }, /depth/],
    ['depth missing', { depth: undefined }, /depth/],
    ['origin_server_ts a string', { origin_server_ts: '1' }, /origin_server_ts/],
    ['hashes missing', { hashes: undefined }, /hashes/],
    ['hashes.sha256 not a string', { hashes: { sha256: 1 } }, /hashes/],
    ['signatures not an object', { signatures: 'x' }, /signatures/],
    ['signatures of a server not an object', { signatures: { 's.org': 'x' } }, /signatures/],
    ['a signature not a string', { signatures: { 's.org': { 'ed25519:a': 1 } } }, /signatures/],
    ['unsigned not an object', { unsigned: 'x' }, /unsigned/],
    ['prev_events not an array', { prev_events: {} }, /prev_events/],
    ['auth_events with a number', { auth_events: [42] }, /auth_events/],
    ['redacts not a string', { redacts: 5 }, /redacts/],
    ['origin not a string', { origin: 5 }, /origin/],
    ['sender missing', { sender: undefined }, /sender/],
    ['room_id missing', { room_id: undefined }, /room_id/],
  ])('rejects %s', (_name, change, reason) => {
    expectInvalid({ ...message('10'), ...change }, '10', reason);
  });

  it('rejects non-objects', () => {
    for (const json of ['event', 42, null, [], undefined]) expectInvalid(json, '10', /not a JSON object/);
  });
});

describe('canonical JSON strictness', () => {
  it('v6+ refuse floats and unsafe integers; v1–5 accept them', () => {
    for (const content of [{ n: 1.5 }, { n: 2 ** 53 }, { deep: [{ n: -(2 ** 60) }] }]) {
      for (const id of ['1', '5']) expect(validatePDU({ ...message(id), content }, v(id)).ok).toBe(true);
      for (const id of ['6', '10', '12']) expectInvalid({ ...message(id), content }, id, /canonical JSON/);
    }
    expectInvalid({ ...message('10'), depth: 2 ** 53 }, '10', /canonical JSON/);
    expectInvalid({ ...message('10'), origin_server_ts: 1.5 }, '10', /canonical JSON/);
    expectInvalid({ ...message('5'), origin_server_ts: 1.5 }, '5', /origin_server_ts/);
  });

  it('refuses strings that have no UTF-8 form in every version', () => {
    expectInvalid({ ...message('1'), content: { body: '\ud800' } }, '1', /canonical JSON/);
  });
});
