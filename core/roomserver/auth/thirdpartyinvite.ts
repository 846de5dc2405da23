import { decodeBase64, verifyJsonSignature } from '../../crypto/index.js';
import type { JsonObject, JsonValue } from '../../events/types.js';

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** The public keys of an `m.room.third_party_invite` event: `public_key` and each `public_keys[].public_key`. */
export function thirdPartyInvitePublicKeys(content: JsonObject): string[] {
  const keys: string[] = [];
  if (typeof content.public_key === 'string') keys.push(content.public_key);
  if (Array.isArray(content.public_keys)) {
    for (const entry of content.public_keys) {
      if (isObject(entry) && typeof entry.public_key === 'string') keys.push(entry.public_key);
    }
  }
  return keys;
}

function verifyOne(signed: JsonObject, serverName: string, keyId: string, publicKeyBase64: string): boolean {
  try {
    const key = decodeBase64(publicKeyBase64);
    return verifyJsonSignature(signed, serverName, keyId, key);
  } catch {
    // A key or signature that does not decode matches nothing.
    return false;
  }
}

/**
 * Whether any signature in `signed` (the `third_party_invite.signed` object of an invite)
 * verifies with any public key of the `m.room.third_party_invite` event.
 */
export function thirdPartyInviteSignatureMatches(signed: JsonObject, inviteContent: JsonObject): boolean {
  const signatures = signed.signatures;
  if (!isObject(signatures)) return false;
  const keys = thirdPartyInvitePublicKeys(inviteContent);
  for (const [serverName, byKeyId] of Object.entries(signatures)) {
    if (!isObject(byKeyId)) continue;
    for (const keyId of Object.keys(byKeyId)) {
      for (const key of keys) {
        if (verifyOne(signed, serverName, keyId, key)) return true;
      }
    }
  }
  return false;
}
