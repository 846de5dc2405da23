import { describe, expect, it } from 'vitest';
import { canonicalJson, decodeBase64, encodeBase64, encodeBase64Url, sha256 } from '../crypto/index.js';
import { checkContentHash, computeEventId, contentHash, referenceHash, roomIdFromCreateEvent } from './hashes.js';
import { redactEvent } from './redaction.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from './roomversions.js';
import type { PDUJson } from './types.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;

function message(ts: number, extra: Partial<PDUJson> = {}): PDUJson {
  return {
    room_id: '!r:s.org',
    sender: '@u:s.org',
    type: 'm.room.message',
    content: { body: 'hello', msgtype: 'm.text' },
    prev_events: [],
    auth_events: [],
    depth: 3,
    origin_server_ts: ts,
    hashes: { sha256: 'x' },
    signatures: { 's.org': { 'ed25519:a': 'sig' } },
    unsigned: { age: 10 },
    ...extra,
  };
}

describe('content hash', () => {
  it('is the sha256 of the canonical event without unsigned, signatures and hashes', () => {
    const e = message(1);
    const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = e;
    expect(contentHash(e)).toBe(encodeBase64(sha256(canonicalJson(rest))));
    expect(contentHash({ ...e, unsigned: { age: 99 }, signatures: {}, hashes: { sha256: 'y' } })).toBe(contentHash(e));
    expect(contentHash({ ...e, content: { body: 'bye' } })).not.toBe(contentHash(e));
  });

  it('is checked by value: padded hashes pass; wrong, missing or garbled ones fail without throwing', () => {
    const e = message(1);
    const h = contentHash(e);
    expect(checkContentHash({ ...e, hashes: { sha256: h } })).toBe(true);
    expect(checkContentHash({ ...e, hashes: { sha256: `${h}=` } })).toBe(true);
    expect(checkContentHash({ ...e, hashes: { sha256: encodeBase64(sha256('other')) } })).toBe(false);
    expect(checkContentHash({ ...e, hashes: { sha256: '!!' } })).toBe(false);
    expect(checkContentHash({ ...e, hashes: undefined } as unknown as PDUJson)).toBe(false);
    expect(checkContentHash({ ...e, hashes: { sha256: 5 } } as unknown as PDUJson)).toBe(false);
    expect(checkContentHash({ ...e, depth: NaN, hashes: { sha256: h } })).toBe(false);
  });

  it('strict versions refuse non-canonical events', () => {
    expect(() => contentHash(message(1, { content: { n: 0.5 } }), v('6'))).toThrow();
    expect(contentHash(message(1, { content: { n: 0.5 } }), v('5'))).toEqual(expect.any(String));
  });
});

describe('reference hash', () => {
  it('is the sha256 of the canonical redacted event without signatures, unsigned and age_ts', () => {
    for (const rv of ROOM_VERSIONS.values()) {
      const e = message(1, rv.eventIdFormat === 'v1' ? { event_id: '$a:s.org' } : {});
      const { signatures: _s, unsigned: _u, ...covered } = redactEvent(e, rv);
      expect(referenceHash(e, rv)).toEqual(sha256(canonicalJson(covered)));
      expect(referenceHash({ ...e, age_ts: 7, signatures: {}, unsigned: {} } as PDUJson, rv)).toEqual(referenceHash(e, rv));
      // It covers the content only through the content hash: a redacted copy has the same one.
      expect(referenceHash(redactEvent(e, rv), rv)).toEqual(referenceHash(e, rv));
      expect(referenceHash({ ...e, hashes: { sha256: 'z' } }, rv)).not.toEqual(referenceHash(e, rv));
    }
  });

  it('covers event_id in v1/v2 but ignores a stray one in v3+', () => {
    const e = message(1);
    expect(referenceHash({ ...e, event_id: '$a:s.org' }, v('1'))).not.toEqual(referenceHash({ ...e, event_id: '$b:s.org' }, v('1')));
    for (const id of ['3', '4', '11', '12']) {
      expect(referenceHash({ ...e, event_id: '$a:s.org' }, v(id))).toEqual(referenceHash(e, v(id)));
    }
  });
});

describe('event ids', () => {
  it('v1/v2 take event_id from the event, and refuse an event without one', () => {
    expect(computeEventId(message(1, { event_id: '$x:s.org' }), v('1'))).toBe('$x:s.org');
    expect(computeEventId(message(1, { event_id: '$x:s.org' }), v('2'))).toBe('$x:s.org');
    expect(() => computeEventId(message(1), v('1'))).toThrow();
  });

  it('v3 uses the standard alphabet (+ /), v4+ the URL-safe one (- _), both unpadded', () => {
    let sawStandard = false;
    let sawUrlSafe = false;
    for (let ts = 0; ts < 200 && !(sawStandard && sawUrlSafe); ts++) {
      const e = message(ts);
      const v3 = computeEventId(e, v('3'));
      expect(v3).toBe(`$${encodeBase64(referenceHash(e, v('3')))}`);
      expect(v3).toMatch(/^\$[A-Za-z0-9+/]{43}$/);
      sawStandard ||= /[+/]/.test(v3);
      for (const id of ['4', '5', '9', '10']) {
        const v4 = computeEventId(e, v(id));
        expect(v4).toBe(`$${encodeBase64Url(referenceHash(e, v(id)))}`);
        expect(v4).toMatch(/^\$[A-Za-z0-9_-]{43}$/);
        // v3 and v4 share the redaction algorithm, so only the alphabet differs.
        if (id === '4') expect(v4).toBe(v3.replace(/\+/g, '-').replace(/\//g, '_'));
        sawUrlSafe ||= /[-_]/.test(v4);
      }
    }
    expect(sawStandard && sawUrlSafe).toBe(true);
  });

  it('decodes to the 32-byte reference hash', () => {
    const e = message(5);
    expect(decodeBase64(computeEventId(e, v('11')).slice(1))).toEqual(referenceHash(e, v('11')));
  });
});

describe('v12 room ids', () => {
  it('are ! + URL-safe base64 of the create event’s reference hash, i.e. its event id with !', () => {
    const create: PDUJson = {
      type: 'm.room.create',
      state_key: '',
      sender: '@u:s.org',
      content: { room_version: '12' },
      prev_events: [],
      auth_events: [],
      depth: 1,
      origin_server_ts: 7,
      hashes: { sha256: 'x' },
      signatures: {},
    };
    const roomId = roomIdFromCreateEvent(create);
    expect(roomId).toBe(`!${encodeBase64Url(referenceHash(create, v('12')))}`);
    expect(roomId).toBe(roomIdFromCreateEvent(create, v('12')));
    expect(roomId.slice(1)).toBe(computeEventId(create, v('12')).slice(1));
    expect(roomId).toMatch(/^![A-Za-z0-9_-]{43}$/);
  });
});
