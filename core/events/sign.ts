/**
 * Event hashing and signing (server-server API "Adding hashes and signatures to outgoing
 * events", "Validating hashes and signatures on received events"). Signatures cover the
 * redacted event, so they survive redaction; the content hash covers the rest.
 */
import { signJson, verifyJsonSignature, type SigningKey } from '../crypto/index.js';
import { contentHash } from './hashes.js';
import { domainOf } from './ids.js';
import { redactEvent } from './redaction.js';
import type { RoomVersion } from './roomversions.js';
import type { PDUJson } from './types.js';

/** Adds `serverName`'s signature over the redacted event, leaving everything else (hashes,
 * other signatures, unsigned) as it is: how a server co-signs another server's event. */
export function addEventSignature(pdu: PDUJson, serverName: string, key: SigningKey, version: RoomVersion): PDUJson {
  const signed = signJson(redactEvent(pdu, version), serverName, key, { strict: version.strictCanonicalJson });
  return { ...pdu, signatures: signed.signatures };
}

/** The event as it may leave the node: an event of `serverName`'s that was stored unsigned
 * (built with `sign: false`) gets its signature, the same one it would have got when built;
 * any other event is returned as it is. */
export function withOwnSignature(pdu: PDUJson, serverName: string, key: SigningKey, version: RoomVersion): PDUJson {
  if (typeof pdu.sender !== 'string' || domainOf(pdu.sender) !== serverName) return pdu;
  if (pdu.signatures?.[serverName]?.[key.keyId] !== undefined) return pdu;
  return addEventSignature(pdu, serverName, key, version);
}

/** Signs an outgoing event: sets `hashes.sha256` to its content hash, then signs the redacted
 * event. Throws CanonicalJsonError if the event has no canonical form in its room version. */
export function signEvent(pdu: PDUJson, serverName: string, key: SigningKey, version: RoomVersion): PDUJson {
  const hashed: PDUJson = { ...pdu, hashes: { ...pdu.hashes, sha256: contentHash(pdu, version) } };
  return addEventSignature(hashed, serverName, key, version);
}

/** Whether the event carries a valid signature by `serverName` with `keyId` over its redacted
 * form. Never throws. */
export function verifyEventSignature(
  pdu: PDUJson,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  version: RoomVersion,
): boolean {
  let redacted: PDUJson;
  try {
    redacted = redactEvent(pdu, version);
  } catch {
    return false;
  }
  return verifyJsonSignature(redacted, serverName, keyId, publicKey, { strict: version.strictCanonicalJson });
}
