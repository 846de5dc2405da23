/**
 * Content hashes, reference hashes and the ids derived from them (server-server API "Signing
 * Events"; room versions' "Event IDs"; appendix "Room IDs" for v12).
 */
import { canonicalJson, decodeBase64, encodeBase64, encodeBase64Url, sha256 } from '../crypto/index.js';
import { redactEvent } from './redaction.js';
import { getRoomVersion, type RoomVersion } from './roomversions.js';
import type { PDUJson } from './types.js';

function contentHashBytes(pdu: PDUJson, strict = false): Uint8Array {
  const { unsigned: _u, signatures: _s, hashes: _h, ...rest } = pdu;
  return sha256(canonicalJson(rest, { strict }));
}

/** The content hash: sha256 of the canonical event without `unsigned`, `signatures` and
 * `hashes`, as unpadded base64 (the value for `hashes.sha256`). Throws CanonicalJsonError if
 * the event has no canonical form (in `version`'s strictness when given). */
export function contentHash(pdu: PDUJson, version?: RoomVersion): string {
  return encodeBase64(contentHashBytes(pdu, version?.strictCanonicalJson));
}

/** Whether `hashes.sha256` matches the event. False (never a throw) when it is missing,
 * undecodable or the event has no canonical form. On a mismatch the receiver must use the
 * event redacted. */
export function checkContentHash(pdu: PDUJson): boolean {
  const claimed = (pdu.hashes as { sha256?: unknown } | undefined)?.sha256;
  if (typeof claimed !== 'string') return false;
  try {
    return Buffer.from(decodeBase64(claimed)).equals(contentHashBytes(pdu));
  } catch {
    return false;
  }
}

/** The reference hash: sha256 of the canonical redacted event without `signatures`,
 * `unsigned` and the legacy top-level `age_ts`; for v3+ events also without a stray
 * `event_id` (their id is this hash, so it cannot be part of it). */
export function referenceHash(pdu: PDUJson, version: RoomVersion): Uint8Array {
  const { signatures: _s, unsigned: _u, age_ts: _a, ...rest } = redactEvent(pdu, version);
  if (version.eventIdFormat !== 'v1') delete rest.event_id;
  return sha256(canonicalJson(rest));
}

/**
 * The event id: v1/v2 events carry the `event_id` their origin chose (throws if absent); v3
 * is `$` + standard unpadded base64 of the reference hash; v4+ `$` + URL-safe unpadded base64.
 */
export function computeEventId(pdu: PDUJson, version: RoomVersion): string {
  switch (version.eventIdFormat) {
    case 'v1':
      if (typeof pdu.event_id !== 'string') throw new Error('v1/v2 event has no event_id');
      return pdu.event_id;
    case 'v3':
      return `$${encodeBase64(referenceHash(pdu, version))}`;
    case 'v4':
      return `$${encodeBase64Url(referenceHash(pdu, version))}`;
  }
}

const V12 = getRoomVersion('12')!;

/** The room id of a v12+ room: `!` + URL-safe unpadded base64 of its create event's reference
 * hash, i.e. the create event's id with `!` for `$`. */
export function roomIdFromCreateEvent(pdu: PDUJson, version: RoomVersion = V12): string {
  return `!${encodeBase64Url(referenceHash(pdu, version))}`;
}
