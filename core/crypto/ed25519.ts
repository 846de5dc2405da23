import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { createRequire } from 'node:module';
import { LruCache } from '../lru.js';

/** The part of sodium-native (libsodium, as Synapse's PyNaCl uses) that Axon calls. */
interface Sodium {
  crypto_sign_seed_keypair(publicKey: Uint8Array, secretKey: Uint8Array, seed: Uint8Array): void;
  crypto_sign_detached(signature: Uint8Array, message: Uint8Array, secretKey: Uint8Array): void;
  crypto_sign_verify_detached(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean;
}

/** libsodium signs and verifies in about half the time of node:crypto (OpenSSL) here, and
 * every event this node sends is signed on the hot path. node:crypto stays the fallback where
 * the native module does not load, or when AXON_ED25519=node asks for it. */
function loadSodium(): Sodium | undefined {
  if (process.env.AXON_ED25519 === 'node') return undefined;
  try {
    return createRequire(import.meta.url)('sodium-native') as Sodium;
  } catch {
    return undefined;
  }
}

const sodium = loadSodium();

/** Which implementation signs and verifies: 'libsodium' or 'node:crypto'. */
export const ED25519_BACKEND = sodium ? 'libsodium' : 'node:crypto';

/** An ed25519 signing key: the node's identity, libp2p key and Matrix signing key. */
export interface SigningKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The Matrix key id, e.g. `ed25519:axon`. */
  readonly keyId: string;
  sign(message: Uint8Array): Uint8Array;
}

export const DEFAULT_KEY_ID = 'ed25519:axon';

// DER prefixes that wrap a raw 32-byte ed25519 key as PKCS#8 / SPKI for node:crypto.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

export function signingKeyFromSeed(seed: Uint8Array, keyId = DEFAULT_KEY_ID): SigningKey {
  if (seed.length !== 32) throw new Error('ed25519 seed must be 32 bytes');
  if (sodium) {
    const publicKey = new Uint8Array(32);
    const secretKey = new Uint8Array(64);
    sodium.crypto_sign_seed_keypair(publicKey, secretKey, seed);
    return {
      seed: Uint8Array.from(seed),
      publicKey,
      keyId,
      sign: (message) => {
        const signature = new Uint8Array(64);
        sodium.crypto_sign_detached(signature, message, secretKey);
        return signature;
      },
    };
  }
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const spki = createPublicKey(priv).export({ format: 'der', type: 'spki' });
  const publicKey = new Uint8Array(spki.subarray(SPKI_PREFIX.length));
  return {
    seed: Uint8Array.from(seed),
    publicKey,
    keyId,
    sign: (message) => new Uint8Array(sign(null, message, priv)),
  };
}

export function generateKeyPair(keyId = DEFAULT_KEY_ID): SigningKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  const pkcs8 = privateKey.export({ format: 'der', type: 'pkcs8' });
  return signingKeyFromSeed(new Uint8Array(pkcs8.subarray(PKCS8_PREFIX.length)), keyId);
}

// Building a KeyObject costs more than a verify: keep the ones in use.
const publicKeys = new LruCache<string, KeyObject>(4096);

function publicKeyObject(publicKey: Uint8Array): KeyObject {
  const id = Buffer.from(publicKey).toString('hex');
  let k = publicKeys.get(id);
  if (!k) {
    k = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, publicKey]), format: 'der', type: 'spki' });
    publicKeys.set(id, k);
  }
  return k;
}

/** Verifies an ed25519 signature; false (never a throw) on malformed keys or signatures. */
export function verifyEd25519(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== 32 || signature.length !== 64) return false;
  try {
    if (sodium) return sodium.crypto_sign_verify_detached(signature, message, publicKey);
    return verify(null, message, publicKeyObject(publicKey), signature);
  } catch {
    return false;
  }
}
