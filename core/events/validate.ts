/**
 * Structural validation of a received PDU against its room version's event format
 * (data/api/server-server/definitions/pdu_v*.yaml) and the size limits (client-server API
 * "Size limits"). An event failing this is dropped, never stored.
 */
import { canonicalJson, CanonicalJsonError } from '../crypto/index.js';
import { MAX_ID_BYTES, parseEventId, parseRoomId, parseUserId } from './ids.js';
import type { RoomVersion } from './roomversions.js';
import type { JsonObject, PDUJson } from './types.js';

/** The whole PDU as canonical JSON, signatures included. */
export const MAX_PDU_BYTES = 65_536;
/** `type` and `state_key`. */
export const MAX_KEY_BYTES = 255;
/** The spec: prev_events and auth_events "must contain less than or equal to" these. */
export const MAX_PREV_EVENTS = 20;
export const MAX_AUTH_EVENTS = 10;

export type PDUValidation = { ok: true; pdu: PDUJson } | { ok: false; reason: string };

class Invalid extends Error {}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

function requireString(obj: JsonObject, key: string, maxBytes?: number): string {
  const v = obj[key];
  if (typeof v !== 'string') throw new Invalid(`${key} must be a string`);
  if (maxBytes !== undefined && byteLength(v) > maxBytes) throw new Invalid(`${key} exceeds ${maxBytes} bytes`);
  return v;
}

function requireInteger(obj: JsonObject, key: string, min: number): number {
  const v = obj[key];
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new Invalid(`${key} must be an integer`);
  if (v < min) throw new Invalid(`${key} must be at least ${min}`);
  return v;
}

function requireObject(obj: JsonObject, key: string): JsonObject {
  const v = obj[key];
  if (!isObject(v)) throw new Invalid(`${key} must be an object`);
  return v;
}

function checkEventRefs(obj: JsonObject, key: string, max: number, version: RoomVersion): void {
  const refs = obj[key];
  if (!Array.isArray(refs)) throw new Invalid(`${key} must be an array`);
  if (refs.length > max) throw new Invalid(`${key} has more than ${max} entries`);
  for (const ref of refs) {
    let id: unknown = ref;
    if (version.legacyEventRefs) {
      // v1/v2: [event id, {sha256: reference hash}]
      if (!Array.isArray(ref) || ref.length !== 2) throw new Invalid(`${key} entries must be [event_id, hashes] pairs`);
      const hashes = ref[1];
      if (!isObject(hashes) || typeof hashes.sha256 !== 'string') throw new Invalid(`${key} entries must carry a sha256 hash`);
      id = ref[0];
    }
    if (typeof id !== 'string' || !parseEventId(id, version)) throw new Invalid(`${key} has an invalid event id`);
  }
}

function checkSignatures(obj: JsonObject): void {
  const sigs = requireObject(obj, 'signatures');
  for (const server of Object.keys(sigs)) {
    const byKey = sigs[server];
    if (!isObject(byKey)) throw new Invalid('signatures must map server names to objects');
    for (const keyId of Object.keys(byKey)) {
      if (typeof byKey[keyId] !== 'string') throw new Invalid('signatures must be strings');
    }
  }
}

function checkRoomId(obj: JsonObject, version: RoomVersion, isCreate: boolean): void {
  if (version.roomIdFromCreate && isCreate) {
    // A v12 room id is derived from its create event, which therefore has none.
    if (obj.room_id !== undefined) throw new Invalid('a v12 create event must not have a room_id');
    return;
  }
  const roomId = requireString(obj, 'room_id', MAX_ID_BYTES);
  if (!parseRoomId(roomId, version)) throw new Invalid('room_id is not a valid room id for this room version');
}

function checkShape(obj: JsonObject, version: RoomVersion): void {
  const sender = requireString(obj, 'sender', MAX_ID_BYTES);
  // Over federation the historical user id grammar must be accepted.
  if (!parseUserId(sender, { historical: true })) throw new Invalid('sender is not a valid user id');
  const type = requireString(obj, 'type', MAX_KEY_BYTES);
  if (obj.state_key !== undefined) requireString(obj, 'state_key', MAX_KEY_BYTES);
  requireObject(obj, 'content');
  requireInteger(obj, 'origin_server_ts', Number.MIN_SAFE_INTEGER);
  requireInteger(obj, 'depth', 0);
  const hashes = requireObject(obj, 'hashes');
  if (typeof hashes.sha256 !== 'string') throw new Invalid('hashes.sha256 must be a string');
  checkSignatures(obj);
  if (obj.unsigned !== undefined) requireObject(obj, 'unsigned');
  checkRoomId(obj, version, type === 'm.room.create' && obj.state_key === '');
  if (version.eventIdFormat === 'v1') {
    const eventId = requireString(obj, 'event_id', MAX_ID_BYTES);
    if (!parseEventId(eventId, version)) throw new Invalid('event_id is not a valid event id');
  }
  checkEventRefs(obj, 'prev_events', MAX_PREV_EVENTS, version);
  checkEventRefs(obj, 'auth_events', MAX_AUTH_EVENTS, version);
  // Top-level `redacts` is part of the format before v11; from v11 it lives in content.
  if (!version.redactsInContent && obj.redacts !== undefined) {
    const redacts = requireString(obj, 'redacts');
    if (!parseEventId(redacts, version)) throw new Invalid('redacts is not a valid event id');
  }
  // `origin` is unverified and unused by the rules: only its type is checked.
  if (obj.origin !== undefined && typeof obj.origin !== 'string') throw new Invalid('origin must be a string');
}

/**
 * Checks a received PDU's structure for its room version: every field's presence and type,
 * identifier grammar, reference formats and counts, and the size limits (65,536 bytes of
 * canonical JSON in all; 255 bytes for ids, `type` and `state_key`). In v6+ rooms the JSON
 * must also be strictly canonical (integers in the safe range, no floats).
 *
 * The returned PDU is the input, except that a v3+ event loses a stray `event_id` (its id is
 * its reference hash, so the field carries nothing and must not be trusted).
 */
export function validatePDU(json: unknown, version: RoomVersion, built?: { canonicalBytes: number }): PDUValidation {
  if (!isObject(json)) return { ok: false, reason: 'event is not a JSON object' };
  if (built) {
    // Built here: encoded (strictly) when it was hashed, and measured then.
    if (built.canonicalBytes > MAX_PDU_BYTES) return { ok: false, reason: `event exceeds ${MAX_PDU_BYTES} bytes` };
  } else {
    let encoded: string;
    try {
      encoded = canonicalJson(json, { strict: version.strictCanonicalJson });
    } catch (e) {
      if (e instanceof CanonicalJsonError) return { ok: false, reason: `not canonical JSON: ${e.message}` };
      throw e;
    }
    // A UTF-16 unit is at most 3 UTF-8 bytes: short events need no byte count.
    if (encoded.length * 3 > MAX_PDU_BYTES && byteLength(encoded) > MAX_PDU_BYTES) {
      return { ok: false, reason: `event exceeds ${MAX_PDU_BYTES} bytes` };
    }
  }
  try {
    checkShape(json, version);
  } catch (e) {
    if (e instanceof Invalid) return { ok: false, reason: e.message };
    throw e;
  }
  let pdu = json as unknown as PDUJson;
  if (version.eventIdFormat !== 'v1' && pdu.event_id !== undefined) {
    const { event_id: _stray, ...rest } = pdu;
    pdu = rest as PDUJson;
  }
  return { ok: true, pdu };
}
