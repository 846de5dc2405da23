import { z } from 'zod';
import { decodeBase64, signingBytes, verifyJsonSignature } from '../../crypto/index.js';
import type { JsonObject } from '../../events/types.js';
import { MatrixError, invalidParam } from '../../http/index.js';

/** Body schemas of the key endpoints and the signature checks the spec asks for. */

const signatures = z.record(z.string(), z.record(z.string(), z.string()));

export const deviceKeysSchema = z.looseObject({
  user_id: z.string(),
  device_id: z.string(),
  algorithms: z.array(z.string()),
  keys: z.record(z.string(), z.string()),
  // Optional here so that unsigned keys get the signature error, not a schema one.
  signatures: signatures.optional(),
});

/** A one-time or fallback key: a bare curve25519 string, or a signed object. */
const keyValue = z.union([z.string().min(1), z.looseObject({ key: z.string().min(1), signatures, fallback: z.boolean().optional() })]);
/** `algorithm:key_id` → key. */
export const keyMapSchema = z.record(z.string().regex(/^[^:]+:.+$/, 'key ids are algorithm:id'), keyValue);

export const crossSigningKeySchema = z.looseObject({
  user_id: z.string(),
  usage: z.array(z.string()).min(1),
  keys: z.record(z.string(), z.string()),
  signatures: signatures.optional(),
});

export const invalidSignature = (msg: string) => new MatrixError(400, 'M_INVALID_SIGNATURE', msg);

/** The device's ed25519 key, after checking ownership and its self-signature. */
export function checkDeviceKeys(dk: JsonObject & z.infer<typeof deviceKeysSchema>, userId: string, deviceId: string): string {
  if (dk.user_id !== userId || dk.device_id !== deviceId) throw invalidParam('device_keys are for another user or device than the one logged in');
  const ed = dk.keys[`ed25519:${deviceId}`];
  if (ed === undefined) throw invalidParam(`device_keys lack an ed25519:${deviceId} key`);
  if (!verifyWith(dk, userId, `ed25519:${deviceId}`, ed)) throw invalidSignature('device_keys are not signed by the device key');
  return ed;
}

/** Checks the signature of a one-time or fallback key object with the device's ed25519 key. */
export function checkSignedKey(keyId: string, value: z.infer<typeof keyValue>, userId: string, deviceId: string, ed25519: string | undefined): void {
  const algorithm = keyId.slice(0, keyId.indexOf(':'));
  if (typeof value === 'string') {
    if (algorithm.startsWith('signed_')) throw new MatrixError(400, 'M_BAD_JSON', `${keyId}: a signed key must be an object`);
    return;
  }
  if (ed25519 === undefined) throw invalidSignature(`${keyId}: no device keys to check its signature with`);
  if (!verifyWith(value as JsonObject, userId, `ed25519:${deviceId}`, ed25519)) throw invalidSignature(`${keyId} is not signed by the device key`);
}

/** The single `ed25519:<public>` key of a cross-signing key. */
export function crossSigningPublicKey(k: z.infer<typeof crossSigningKeySchema>): string {
  const entries = Object.entries(k.keys);
  if (entries.length !== 1) throw invalidParam('a cross-signing key has exactly one key');
  const [id, pub] = entries[0]!;
  if (id !== `ed25519:${pub}`) throw invalidParam('a cross-signing key id is ed25519:<its public key>');
  return pub;
}

export function verifyWith(obj: object, userId: string, keyId: string, publicKeyB64: string): boolean {
  let pub: Uint8Array;
  try {
    pub = decodeBase64(publicKeyB64);
  } catch {
    return false;
  }
  return pub.length === 32 && verifyJsonSignature(obj, userId, keyId, pub);
}

/** Whether two signed objects are the same apart from signatures and unsigned. */
export function sameSignedContent(a: object, b: object): boolean {
  try {
    return Buffer.from(signingBytes(a)).equals(Buffer.from(signingBytes(b)));
  } catch {
    // No canonical form (a float, say): it cannot be the stored key.
    return false;
  }
}
