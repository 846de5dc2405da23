import * as noble from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, decodeBase64, encodeBase64, generateKeyPair, signingKeyFromSeed } from '../crypto/index.js';
import { checkContentHash, contentHash } from './hashes.js';
import { redactEvent } from './redaction.js';
import { getRoomVersion, ROOM_VERSIONS, type RoomVersion } from './roomversions.js';
import { addEventSignature, signEvent, verifyEventSignature } from './sign.js';
import type { PDUJson } from './types.js';

const v = (id: string): RoomVersion => getRoomVersion(id)!;
// Appendix "Cryptographic Test Vectors": this seed, server name "domain", key id "ed25519:1".
const KEY = signingKeyFromSeed(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'), 'ed25519:1');

const minimalEvent = (): PDUJson =>
  JSON.parse(`{
    "room_id": "!x:domain",
    "sender": "@a:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "signatures": {},
    "hashes": {},
    "type": "X",
    "content": {},
    "prev_events": [],
    "auth_events": [],
    "depth": 3,
    "unsigned": {
        "age_ts": 1000000
    }
  }`) as PDUJson;

const redactableEvent = (): PDUJson =>
  JSON.parse(`{
    "content": {
        "body": "Here is the message content"
    },
    "event_id": "$0:domain",
    "origin": "domain",
    "origin_server_ts": 1000000,
    "type": "m.room.message",
    "room_id": "!r:domain",
    "sender": "@u:domain",
    "signatures": {},
    "unsigned": {
        "age_ts": 1000000
    }
  }`) as PDUJson;

// The vectors predate room versions; every version whose redaction keeps `origin` (1–10)
// signs them identically.
const ORIGIN_KEEPING = [...ROOM_VERSIONS.values()].filter((rv) => rv.redaction !== 'v11').map((rv) => rv.id);

describe('event signing: the spec appendix test vectors', () => {
  it.each(ORIGIN_KEEPING)('signs the minimally-sized event (room v%s)', (id) => {
    const signed = signEvent(minimalEvent(), 'domain', KEY, v(id));
    expect(signed).toEqual(
      JSON.parse(`{
        "auth_events": [],
        "content": {},
        "depth": 3,
        "hashes": {
            "sha256": "5jM4wQpv6lnBo7CLIghJuHdW+s2CMBJPUOGOC89ncos"
        },
        "origin": "domain",
        "origin_server_ts": 1000000,
        "prev_events": [],
        "room_id": "!x:domain",
        "sender": "@a:domain",
        "signatures": {
            "domain": {
                "ed25519:1": "KxwGjPSDEtvnFgU00fwFz+l6d2pJM6XBIaMEn81SXPTRl16AqLAYqfIReFGZlHi5KLjAWbOoMszkwsQma+lYAg"
            }
        },
        "type": "X",
        "unsigned": {
            "age_ts": 1000000
        }
      }`),
    );
    expect(verifyEventSignature(signed, 'domain', 'ed25519:1', KEY.publicKey, v(id))).toBe(true);
    expect(checkContentHash(signed)).toBe(true);
  });

  it.each(ORIGIN_KEEPING)('signs the event with redactable content (room v%s)', (id) => {
    const signed = signEvent(redactableEvent(), 'domain', KEY, v(id));
    expect(signed).toEqual(
      JSON.parse(`{
        "content": {
            "body": "Here is the message content"
        },
        "event_id": "$0:domain",
        "hashes": {
            "sha256": "onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g"
        },
        "origin": "domain",
        "origin_server_ts": 1000000,
        "type": "m.room.message",
        "room_id": "!r:domain",
        "sender": "@u:domain",
        "signatures": {
            "domain": {
                "ed25519:1": "Wm+VzmOUOz08Ds+0NTWb1d4CZrVsJSikkeRxh6aCcUwu6pNC78FunoD7KNWzqFn241eYHYMGCA5McEiVPdhzBA"
            }
        },
        "unsigned": {
            "age_ts": 1000000
        }
      }`),
    );
    expect(verifyEventSignature(signed, 'domain', 'ed25519:1', KEY.publicKey, v(id))).toBe(true);
  });

  it('the vector signatures are @noble/ed25519 signatures of the redacted canonical event', async () => {
    const signed = signEvent(redactableEvent(), 'domain', KEY, v('1'));
    const { signatures: _s, unsigned: _u, ...covered } = redactEvent(signed, v('1'));
    const sig = await noble.signAsync(new TextEncoder().encode(canonicalJson(covered)), KEY.seed);
    expect(encodeBase64(sig)).toBe(signed.signatures.domain!['ed25519:1']);
    expect(contentHash(signed)).toBe('onLKD1bGljeBWQhWZ1kaP9SorVmRQNdN5aM2JYU2n/g');
  });
});

describe('event signatures', () => {
  it('survive redaction, while the content hash does not', () => {
    for (const rv of ROOM_VERSIONS.values()) {
      const signed = signEvent(redactableEvent(), 'domain', KEY, rv);
      const redacted = redactEvent(signed, rv);
      expect(verifyEventSignature(redacted, 'domain', 'ed25519:1', KEY.publicKey, rv)).toBe(true);
      expect(checkContentHash(redacted)).toBe(false);
      // Changing what the signature covers breaks it; changing only the content breaks the hash.
      expect(verifyEventSignature({ ...signed, sender: '@v:domain' }, 'domain', 'ed25519:1', KEY.publicKey, rv)).toBe(false);
      const edited = { ...signed, content: { body: 'changed' } };
      expect(verifyEventSignature(edited, 'domain', 'ed25519:1', KEY.publicKey, rv)).toBe(true);
      expect(checkContentHash(edited)).toBe(false);
    }
  });

  it('v11 signs without origin; older versions cover it', () => {
    const v10 = signEvent(minimalEvent(), 'domain', KEY, v('10'));
    const v11 = signEvent(minimalEvent(), 'domain', KEY, v('11'));
    const moved = (e: PDUJson) => ({ ...e, origin: 'elsewhere' });
    expect(verifyEventSignature(moved(v10), 'domain', 'ed25519:1', KEY.publicKey, v('10'))).toBe(false);
    expect(verifyEventSignature(moved(v11), 'domain', 'ed25519:1', KEY.publicKey, v('11'))).toBe(true);
  });

  it('a co-signature keeps the hash and the first signature', () => {
    const resident = generateKeyPair();
    const signed = signEvent(minimalEvent(), 'domain', KEY, v('9'));
    const cosigned = addEventSignature(signed, 'resident.example', resident, v('9'));
    expect(cosigned.hashes).toEqual(signed.hashes);
    expect(verifyEventSignature(cosigned, 'domain', 'ed25519:1', KEY.publicKey, v('9'))).toBe(true);
    expect(verifyEventSignature(cosigned, 'resident.example', resident.keyId, resident.publicKey, v('9'))).toBe(true);
  });

  it('verification is false, never a throw, for wrong keys and malformed events', () => {
    const signed = signEvent(minimalEvent(), 'domain', KEY, v('10'));
    const pk = KEY.publicKey;
    expect(verifyEventSignature(signed, 'domain', 'ed25519:1', generateKeyPair().publicKey, v('10'))).toBe(false);
    expect(verifyEventSignature(signed, 'other', 'ed25519:1', pk, v('10'))).toBe(false);
    expect(verifyEventSignature(signed, 'domain', 'ed25519:2', pk, v('10'))).toBe(false);
    expect(verifyEventSignature({ ...signed, signatures: {} }, 'domain', 'ed25519:1', pk, v('10'))).toBe(false);
    expect(verifyEventSignature({ ...signed, depth: 1.5 }, 'domain', 'ed25519:1', pk, v('10'))).toBe(false);
    expect(verifyEventSignature({ ...signed, signatures: null } as unknown as PDUJson, 'domain', 'ed25519:1', pk, v('10'))).toBe(false);
    expect(verifyEventSignature({} as PDUJson, 'domain', 'ed25519:1', pk, v('10'))).toBe(false);
  });

  it('strict versions refuse to sign an event that is not canonical JSON', () => {
    const withFloat = { ...minimalEvent(), content: { n: 0.5 } };
    expect(() => signEvent(withFloat, 'domain', KEY, v('6'))).toThrow(CanonicalJsonError);
    expect(() => signEvent({ ...minimalEvent(), depth: 2 ** 53 }, 'domain', KEY, v('6'))).toThrow(CanonicalJsonError);
    expect(signEvent(withFloat, 'domain', KEY, v('5')).signatures.domain).toBeDefined();
  });
});
