import { decodeBase64, encodeBase64 } from './base64.js';
import { canonicalJson, type CanonicalJsonOptions } from './canonicaljson.js';
import { verifyEd25519, type SigningKey } from './ed25519.js';

/** `signatures`: entity (server) name → signing key id → unpadded base64 signature. */
export type JsonSignatures = Record<string, Record<string, string>>;

type Signable = { signatures?: JsonSignatures; unsigned?: unknown };

/** The bytes a JSON signature covers: the canonical form without `signatures` and `unsigned`. */
export function signingBytes(obj: object, opts?: CanonicalJsonOptions): Uint8Array {
  const { signatures: _s, unsigned: _u, ...rest } = obj as Signable & Record<string, unknown>;
  return Buffer.from(canonicalJson(rest, opts), 'utf8');
}

/**
 * Signs a JSON object per the appendix ("Signing JSON") and returns a copy with the signature
 * added under `signatures[serverName][key.keyId]`; other signatures and `unsigned` are kept.
 * Throws CanonicalJsonError when the object has no canonical form.
 */
export function signJson<T extends object>(
  obj: T,
  serverName: string,
  key: SigningKey,
  opts?: CanonicalJsonOptions,
): T & { signatures: JsonSignatures } {
  const sig = encodeBase64(key.sign(signingBytes(obj, opts)));
  const existing = (obj as Signable).signatures ?? {};
  return {
    ...obj,
    signatures: { ...existing, [serverName]: { ...existing[serverName], [key.keyId]: sig } },
  };
}

/** Checks the signature of `serverName` with `keyId` on a JSON object ("Checking for a
 * Signature"). False, never a throw, for a missing, undecodable or wrong signature. */
export function verifyJsonSignature(
  obj: object,
  serverName: string,
  keyId: string,
  publicKey: Uint8Array,
  opts?: CanonicalJsonOptions,
): boolean {
  const sigs = (obj as Signable).signatures;
  if (typeof sigs !== 'object' || sigs === null) return false;
  const forServer = Object.hasOwn(sigs, serverName) ? sigs[serverName] : undefined;
  if (typeof forServer !== 'object' || forServer === null) return false;
  const sig = Object.hasOwn(forServer, keyId) ? forServer[keyId] : undefined;
  if (typeof sig !== 'string') return false;
  try {
    return verifyEd25519(publicKey, signingBytes(obj, opts), decodeBase64(sig));
  } catch {
    return false;
  }
}
