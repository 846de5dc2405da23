import { describe, expect, it } from 'vitest';
import { canonicalJson, encodeBase64, encodeBase64Url, generateKeyPair } from '../crypto/index.js';
import { buildEvent, type EventFields } from './builder.js';
import { checkContentHash, computeEventId, contentHash, referenceHash } from './hashes.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from './roomversions.js';
import { verifyEventSignature, withOwnSignature } from './sign.js';
import type { JsonObject, PDUJson } from './types.js';
import { validatePDU } from './validate.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
const SERVER = 'example.org';
const KEY = generateKeyPair();
const ALICE = `@alice:${SERVER}`;

/** A small room: the create event and a message on top, all held in `events` for lookups. */
function room(versionId: string) {
  const version = v(versionId);
  const events = new Map<string, PDUJson>();
  const lookup = (id: string) => events.get(id);
  const build = (fields: Omit<EventFields, 'version'>) => {
    const built = buildEvent({ version, ...fields }, SERVER, KEY, lookup);
    events.set(built.event.eventId, built.pdu);
    return built;
  };
  const create = build({
    roomId: version.roomIdFromCreate ? undefined : `!room:${SERVER}`,
    type: 'm.room.create',
    stateKey: '',
    sender: ALICE,
    content: { room_version: versionId },
    prevEvents: [],
    authEvents: [],
    depth: 1,
  });
  const roomId = create.event.roomId;
  const member = build({
    roomId,
    type: 'm.room.member',
    stateKey: ALICE,
    sender: ALICE,
    content: { membership: 'join' },
    prevEvents: [create.event.eventId],
    authEvents: version.roomIdFromCreate ? [] : [create.event.eventId],
    depth: 2,
  });
  return { version, roomId, create, member, build };
}

describe('buildEvent in every room version', () => {
  it.each([...ROOM_VERSIONS.keys()])('v%s: valid, hashed, signed, with the version’s ids and fields', (id) => {
    const { version, roomId, create, member } = room(id);
    for (const { pdu, event } of [create, member]) {
      expect(validatePDU(pdu, version)).toEqual({ ok: true, pdu });
      expect(checkContentHash(pdu)).toBe(true);
      expect(pdu.hashes.sha256).toBe(contentHash(pdu));
      expect(verifyEventSignature(pdu, SERVER, KEY.keyId, KEY.publicKey, version)).toBe(true);
      expect(event.eventId).toBe(computeEventId(pdu, version));
      expect(event.roomId).toBe(roomId);
      expect(event.json).toBe(pdu);
      expect(event.version).toBe(version);
      // Synapse sends origin up to v10; v11 dropped it from the format's protected keys.
      expect(pdu.origin).toBe(version.redaction === 'v11' ? undefined : SERVER);
    }
    expect(member.event).toMatchObject({
      type: 'm.room.member',
      stateKey: ALICE,
      sender: ALICE,
      content: { membership: 'join' },
      prevEventIds: [create.event.eventId],
      depth: 2,
    });
  });

  it('v1/v2: event_id $random:server and [id, {sha256: reference hash}] references', () => {
    for (const id of ['1', '2']) {
      const { version, create, member } = room(id);
      expect(create.pdu.event_id).toMatch(new RegExp(`^\\$[0-9a-f]{24}:${SERVER}$`));
      expect(create.event.eventId).toBe(create.pdu.event_id);
      const ref = [create.event.eventId, { sha256: encodeBase64(referenceHash(create.pdu, version)) }];
      expect(member.pdu.prev_events).toEqual([ref]);
      expect(member.pdu.auth_events).toEqual([ref]);
      expect(member.event.prevEventIds).toEqual([create.event.eventId]);
      expect(member.event.authEventIds).toEqual([create.event.eventId]);
    }
  });

  it('v1/v2: refuses to reference an event it cannot hash', () => {
    const { build, roomId } = room('1');
    const fields = { roomId, type: 'm.room.message', sender: ALICE, content: {}, prevEvents: ['$unknown:x.org'], authEvents: [], depth: 3 };
    expect(() => build(fields)).toThrow(/\$unknown:x\.org/);
    expect(() => buildEvent({ version: v('2'), ...fields }, SERVER, KEY)).toThrow();
  });

  it('v3+: no event_id; references are plain ids; v3 ids use + and /, v4+ use - and _', () => {
    const v3 = room('3');
    const v4 = room('4');
    expect(v3.create.pdu.event_id).toBeUndefined();
    expect(v3.member.pdu.prev_events).toEqual([v3.create.event.eventId]);
    let plus = false;
    let dash = false;
    for (let i = 0; i < 100 && !(plus && dash); i++) {
      const e3 = v3.build({ roomId: v3.roomId, type: 'm.room.message', sender: ALICE, content: { i }, prevEvents: [], authEvents: [], depth: 3 });
      const e4 = v4.build({ roomId: v4.roomId, type: 'm.room.message', sender: ALICE, content: { i }, prevEvents: [], authEvents: [], depth: 3 });
      expect(e3.event.eventId).toBe(`$${encodeBase64(referenceHash(e3.pdu, v3.version))}`);
      expect(e3.event.eventId).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
      expect(e4.event.eventId).toBe(`$${encodeBase64Url(referenceHash(e4.pdu, v4.version))}`);
      expect(e4.event.eventId).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
      plus ||= /[+/]/.test(e3.event.eventId);
      dash ||= /[-_]/.test(e4.event.eventId);
    }
    expect(plus && dash).toBe(true);
  });

  it('v12: the create event has no room_id and the room id is ! + its URL-safe reference hash', () => {
    const { version, roomId, create, member } = room('12');
    expect(create.pdu.room_id).toBeUndefined();
    expect(roomId).toBe(`!${encodeBase64Url(referenceHash(create.pdu, version))}`);
    expect(roomId.slice(1)).toBe(create.event.eventId.slice(1));
    expect(member.pdu.room_id).toBe(roomId);
    expect(member.pdu.auth_events).toEqual([]);
  });

  it('needs a room id everywhere else', () => {
    const fields = { type: 'm.room.message', sender: ALICE, content: {}, prevEvents: [], authEvents: [], depth: 1 };
    expect(() => buildEvent({ version: v('12'), ...fields }, SERVER, KEY)).toThrow(/room id/);
    expect(() => buildEvent({ version: v('11'), ...fields, type: 'm.room.create', stateKey: '' }, SERVER, KEY)).toThrow(/room id/);
  });

  it('puts redacts at the top level before v11 and in content from v11', () => {
    for (const id of ['3', '10', '11', '12']) {
      const { version, roomId, member, build } = room(id);
      const { pdu, event } = build({
        roomId,
        type: 'm.room.redaction',
        sender: ALICE,
        content: { reason: 'oops' },
        redacts: member.event.eventId,
        prevEvents: [member.event.eventId],
        authEvents: [],
        depth: 3,
      });
      if (version.redactsInContent) {
        expect(pdu.redacts).toBeUndefined();
        expect(pdu.content).toEqual({ reason: 'oops', redacts: member.event.eventId });
      } else {
        expect(pdu.redacts).toBe(member.event.eventId);
        expect(pdu.content).toEqual({ reason: 'oops' });
      }
      expect(event.redacts).toBe(member.event.eventId);
      expect(validatePDU(pdu, version).ok).toBe(true);
    }
  });

  it('takes the given timestamp, attaches unsigned outside hash and signature', () => {
    const { version, roomId, build } = room('11');
    const { pdu, event } = build({
      roomId,
      type: 'm.room.message',
      sender: ALICE,
      content: { body: 'hi' },
      prevEvents: [],
      authEvents: [],
      depth: 3,
      originServerTs: 1234,
      unsigned: { transaction_id: 't1' },
    });
    expect(pdu.origin_server_ts).toBe(1234);
    expect(event.originServerTs).toBe(1234);
    expect(pdu.unsigned).toEqual({ transaction_id: 't1' });
    expect(checkContentHash(pdu)).toBe(true);
    expect(verifyEventSignature(pdu, SERVER, KEY.keyId, KEY.publicKey, version)).toBe(true);
    expect(event.eventId).toBe(computeEventId({ ...pdu, unsigned: undefined }, version));
  });

  it('builds message events without a state key', () => {
    const { roomId, build } = room('10');
    const { pdu, event } = build({ roomId, type: 'm.room.message', sender: ALICE, content: {}, prevEvents: [], authEvents: [], depth: 3 });
    expect('state_key' in pdu).toBe(false);
    expect(event.stateKey).toBeUndefined();
  });

  it('refuses content that is not canonical JSON in strict versions', () => {
    const { roomId, build } = room('6');
    expect(() => build({ roomId, type: 'm.room.message', sender: ALICE, content: { n: 1.5 }, prevEvents: [], authEvents: [], depth: 3 })).toThrow();
  });
});

describe('the size of a built event', () => {
  it.each([...ROOM_VERSIONS.keys()])('is the UTF-8 length of its canonical JSON (v%s)', (id) => {
    const r = room(id);
    const contents: JsonObject[] = [{ body: 'plain' }, { body: 'Grüße, 日本, 🎉', nested: { a: [1, 2, { b: null }] } }, {}];
    for (const content of contents) {
      for (const unsigned of [undefined, { transaction_id: 'tx🎉' }]) {
        const built = r.build({
          roomId: r.roomId,
          type: 'm.room.message',
          sender: ALICE,
          content,
          prevEvents: [r.member.event.eventId],
          authEvents: [r.member.event.eventId],
          depth: 3,
          unsigned,
        });
        expect(built.canonicalBytes).toBe(Buffer.byteLength(canonicalJson(built.pdu)));
      }
    }
    expect(r.create.canonicalBytes).toBe(Buffer.byteLength(canonicalJson(r.create.pdu)));
  });
});

describe('an event built unsigned (sign: false)', () => {
  it.each([...ROOM_VERSIONS.keys()])('is the signed event once withOwnSignature signs it, byte for byte (v%s)', (id) => {
    const r = room(id);
    const fields = {
      roomId: r.roomId,
      type: 'm.room.message',
      sender: ALICE,
      content: { body: 'Grüße 🎉' },
      prevEvents: [r.member.event.eventId],
      authEvents: [r.member.event.eventId],
      depth: 3,
      originServerTs: 1_700_000_000_000,
      unsigned: { transaction_id: 't1' },
    };
    const signed = buildEvent({ version: r.version, ...fields }, SERVER, KEY, (e) => (e === r.member.event.eventId ? r.member.pdu : r.create.pdu));
    const unsigned = buildEvent({ version: r.version, ...fields }, SERVER, KEY, (e) => (e === r.member.event.eventId ? r.member.pdu : r.create.pdu), { sign: false });
    expect(unsigned.pdu.signatures).toEqual({});
    // v1/v2 ids are random per build (and hashed): there, strip the signed build instead.
    const same = r.version.eventIdFormat === 'v1' ? { ...signed.pdu, signatures: {} } : unsigned.pdu;
    const later = withOwnSignature(same, SERVER, KEY, r.version);
    expect(canonicalJson(later)).toBe(canonicalJson(signed.pdu));
    expect(verifyEventSignature(later, SERVER, KEY.keyId, KEY.publicKey, r.version)).toBe(true);
    expect(verifyEventSignature(withOwnSignature(unsigned.pdu, SERVER, KEY, r.version), SERVER, KEY.keyId, KEY.publicKey, r.version)).toBe(true);
    if (r.version.eventIdFormat !== 'v1') expect(unsigned.event.eventId).toBe(signed.event.eventId);
    // The size limit counts the signature still to come.
    expect(unsigned.canonicalBytes).toBe(signed.canonicalBytes);
    expect(unsigned.canonicalBytes).toBe(Buffer.byteLength(canonicalJson(later)));
  });

  it('withOwnSignature leaves signed events and other servers’ events as they are', () => {
    const r = room('12');
    expect(withOwnSignature(r.member.pdu, SERVER, KEY, r.version)).toBe(r.member.pdu);
    const theirs = buildEvent(
      { version: r.version, roomId: r.roomId, type: 'm.room.message', sender: '@bob:other.example', content: {}, prevEvents: [], authEvents: [], depth: 3 },
      'other.example',
      KEY,
      undefined,
      { sign: false },
    );
    expect(withOwnSignature(theirs.pdu, SERVER, KEY, r.version)).toBe(theirs.pdu);
  });
});
