/**
 * Builds, hashes and signs a new PDU in its room version's format, and reads it into a
 * RoomEvent. The caller chooses prev and auth events; this only formats them.
 */
import { randomBytes } from 'node:crypto';
import { canonicalJson, encodeBase64, encodeBase64Url, sha256, signingBytes, type SigningKey } from '../crypto/index.js';
import { toRoomEvent } from './event.js';
import { computeEventId, referenceHash } from './hashes.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './roomversions.js';
import type { EventRef, JsonObject, PDUJson, RoomEvent } from './types.js';

export interface EventFields {
  version: RoomVersion;
  /** Required, except on the create event of a v12+ room (its id is derived from it). */
  roomId?: string;
  type: string;
  stateKey?: string;
  sender: string;
  content: JsonObject;
  prevEvents: readonly string[];
  authEvents: readonly string[];
  depth: number;
  /** Defaults to now. */
  originServerTs?: number;
  /** For m.room.redaction: top-level before v11, `content.redacts` from v11. */
  redacts?: string;
  unsigned?: JsonObject;
}

/** An ed25519 signature in unpadded base64 is always this long. */
const SIGNATURE_BASE64_LENGTH = 86;

export interface BuildOptions {
  /** false: leave the event unsigned, for its server to sign when it first leaves the node
   * (`withOwnSignature`). ed25519 signatures are deterministic and neither the event id nor
   * the content hash covers them, so signing later gives the same event, byte for byte; an
   * event that never goes over federation is never signed. Default true. */
  sign?: boolean;
}

/** Finds a referenced event's wire JSON; v1/v2 references carry its reference hash. */
export type RefLookup = (eventId: string) => PDUJson | undefined;

export interface BuiltEvent {
  pdu: PDUJson;
  event: RoomEvent;
  /** The UTF-8 length of the PDU's canonical JSON (for the size limit). */
  canonicalBytes: number;
}

/** What a key and its value add to the canonical JSON of a non-empty object: a comma, the
 * key, a colon and the value (canonical JSON is additive in its members). */
function memberBytes(key: string, value: unknown): number {
  return 2 + Buffer.byteLength(canonicalJson(key)) + Buffer.byteLength(canonicalJson(value));
}

const signaturesBytesCache = new Map<string, number>();
/** memberBytes of `signatures` holding one signature by the server: the same for every
 * event, as signatures have one length. */
function signaturesBytes(serverName: string, keyId: string): number {
  const k = `${serverName}\u0000${keyId}`;
  let n = signaturesBytesCache.get(k);
  if (n === undefined) {
    n = memberBytes('signatures', { [serverName]: { [keyId]: 'A'.repeat(SIGNATURE_BASE64_LENGTH) } });
    signaturesBytesCache.set(k, n);
  }
  return n;
}

function eventRefs(ids: readonly string[], version: RoomVersion, lookupRef: RefLookup | undefined): EventRef[] {
  if (!version.legacyEventRefs) return [...ids];
  return ids.map((id): EventRef => {
    const ref = lookupRef?.(id);
    if (!ref) throw new Error(`cannot reference ${id}: event unknown, and v1/v2 references need its hash`);
    return [id, { sha256: encodeBase64(referenceHash(ref, version)) }];
  });
}

/**
 * Builds a signed event from `serverName` (unsigned with `sign: false`). v1/v2 events get an `event_id` of
 * `$<random>:serverName` and `[id, {sha256}]` references (hence `lookupRef`); v1–v10 events
 * carry `origin`, as other servers' events in those versions do. Throws if a v1/v2 reference
 * is unknown, if a room id is missing where one is needed, or if the event has no canonical
 * JSON in its version.
 */
export function buildEvent(fields: EventFields, serverName: string, key: SigningKey, lookupRef?: RefLookup, opts: BuildOptions = {}): BuiltEvent {
  const { version } = fields;
  const isCreate = fields.type === 'm.room.create' && fields.stateKey === '';
  const derivesRoomId = version.roomIdFromCreate && isCreate;
  if (!derivesRoomId && fields.roomId === undefined) throw new Error(`${fields.type} event needs a room id`);

  let content = fields.content;
  if (fields.redacts !== undefined && version.redactsInContent) content = { ...content, redacts: fields.redacts };

  const draft: PDUJson = {
    type: fields.type,
    sender: fields.sender,
    content,
    prev_events: eventRefs(fields.prevEvents, version, lookupRef),
    auth_events: eventRefs(fields.authEvents, version, lookupRef),
    depth: fields.depth,
    origin_server_ts: fields.originServerTs ?? Date.now(),
    hashes: { sha256: '' }, // set by signEvent
    signatures: {},
  };
  if (!derivesRoomId) draft.room_id = fields.roomId;
  if (fields.stateKey !== undefined) draft.state_key = fields.stateKey;
  if (fields.redacts !== undefined && !version.redactsInContent) draft.redacts = fields.redacts;
  // Nothing reads `origin`; from v11 redaction drops it too, so new v11+ events go without.
  if (version.redaction !== 'v11') draft.origin = serverName;
  if (version.eventIdFormat === 'v1') draft.event_id = `$${randomBytes(12).toString('hex')}:${serverName}`;

  // The signature and the reference hash cover the same bytes here (the redacted event
  // without signatures; a new event has no unsigned, age_ts, or v3+ event_id yet): encode once.
  // The content hash's encoding is the whole event but for hashes and signatures: its size
  // gives the event's, without encoding the event again.
  const { hashes: _h, signatures: _s, ...hashedPart } = draft;
  const hashedJson = canonicalJson(hashedPart, { strict: version.strictCanonicalJson });
  const hashed: PDUJson = { ...draft, hashes: { sha256: encodeBase64(sha256(hashedJson)) } };
  const bytes = signingBytes(redactEvent(hashed, version), { strict: version.strictCanonicalJson });
  const signature = opts.sign === false ? undefined : encodeBase64(key.sign(bytes));
  const pdu: PDUJson = { ...hashed, signatures: signature === undefined ? {} : { [serverName]: { [key.keyId]: signature } } };
  if (fields.unsigned !== undefined) pdu.unsigned = fields.unsigned;
  const refHash = version.eventIdFormat === 'v1' ? undefined : sha256(bytes);
  const eventId = refHash === undefined ? computeEventId(pdu, version) : `$${version.eventIdFormat === 'v3' ? encodeBase64(refHash) : encodeBase64Url(refHash)}`;
  const roomId = derivesRoomId ? `!${encodeBase64Url(refHash ?? referenceHash(pdu, version))}` : fields.roomId;
  // The size limit counts the signature, whether it is made now or when the event leaves.
  let canonicalBytes = Buffer.byteLength(hashedJson) + memberBytes('hashes', pdu.hashes) + signaturesBytes(serverName, key.keyId);
  if (pdu.unsigned !== undefined) canonicalBytes += memberBytes('unsigned', pdu.unsigned);
  return { pdu, event: toRoomEvent(pdu, eventId, version, roomId), canonicalBytes };
}
