import * as noble from '@noble/ed25519';
import { randomBytes } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';
import * as sodiumBacked from './ed25519.js';
import { sha256 } from './hash.js';

const SPEC_SEED = decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1');

/** The module again, loaded as where libsodium is missing: node:crypto signs and verifies. */
async function nodeBacked(): Promise<typeof sodiumBacked> {
  vi.resetModules();
  vi.stubEnv('AXON_ED25519', 'node');
  try {
    return await import('./ed25519.js');
  } finally {
    vi.unstubAllEnvs();
  }
}
const nodeCrypto = await nodeBacked();

it('signs with libsodium here; node:crypto when told to', () => {
  expect(sodiumBacked.ED25519_BACKEND).toBe('libsodium');
  expect(nodeCrypto.ED25519_BACKEND).toBe('node:crypto');
});

it('each implementation verifies what the other signed', () => {
  for (let i = 0; i < 10; i++) {
    const seed = new Uint8Array(randomBytes(32));
    const a = sodiumBacked.signingKeyFromSeed(seed);
    const b = nodeCrypto.signingKeyFromSeed(seed);
    expect(a.publicKey).toEqual(b.publicKey);
    const msg = new Uint8Array(randomBytes(i * 31));
    expect(a.sign(msg)).toEqual(b.sign(msg));
    expect(nodeCrypto.verifyEd25519(a.publicKey, msg, a.sign(msg))).toBe(true);
    expect(sodiumBacked.verifyEd25519(b.publicKey, msg, b.sign(msg))).toBe(true);
  }
});

describe.each([
  ['libsodium', sodiumBacked],
  ['node:crypto', nodeCrypto],
])('%s', (_name, { DEFAULT_KEY_ID, generateKeyPair, signingKeyFromSeed, verifyEd25519 }) => {
  describe('ed25519 keys', () => {
    it('derives the same public key as @noble/ed25519', async () => {
      expect(signingKeyFromSeed(SPEC_SEED).publicKey).toEqual(await noble.getPublicKeyAsync(SPEC_SEED));
      for (let i = 0; i < 5; i++) {
        const key = generateKeyPair();
        expect(key.seed).toHaveLength(32);
        expect(key.publicKey).toEqual(await noble.getPublicKeyAsync(key.seed));
      }
    });

    it('key ids: ed25519:axon unless told otherwise', () => {
      expect(DEFAULT_KEY_ID).toBe('ed25519:axon');
      expect(generateKeyPair().keyId).toBe('ed25519:axon');
      expect(signingKeyFromSeed(SPEC_SEED, 'ed25519:1').keyId).toBe('ed25519:1');
    });

    it('rejects seeds that are not 32 bytes', () => {
      expect(() => signingKeyFromSeed(new Uint8Array(31))).toThrow();
    });

    it('keeps its own copy of the seed', () => {
      const seed = new Uint8Array(SPEC_SEED);
      const key = signingKeyFromSeed(seed);
      seed.fill(0);
      expect(key.seed).toEqual(SPEC_SEED);
    });
  });

  describe('ed25519 signatures, cross-checked with @noble/ed25519', () => {
    it('produces the same (deterministic) signatures and each verifies the other', async () => {
      for (let i = 0; i < 10; i++) {
        const key = generateKeyPair();
        const msg = new Uint8Array(randomBytes(i * 17));
        const ours = key.sign(msg);
        const theirs = await noble.signAsync(msg, key.seed);
        expect(ours).toEqual(theirs);
        expect(await noble.verifyAsync(ours, msg, key.publicKey)).toBe(true);
        expect(verifyEd25519(key.publicKey, msg, theirs)).toBe(true);
      }
    });

    it('refuses a changed message, signature or key', () => {
      const key = generateKeyPair();
      const other = generateKeyPair();
      const msg = new TextEncoder().encode('hello axon');
      const sig = key.sign(msg);
      expect(verifyEd25519(key.publicKey, msg, sig)).toBe(true);
      expect(verifyEd25519(key.publicKey, new TextEncoder().encode('hello axon!'), sig)).toBe(false);
      const flipped = new Uint8Array(sig);
      flipped[10]! ^= 1;
      expect(verifyEd25519(key.publicKey, msg, flipped)).toBe(false);
      expect(verifyEd25519(other.publicKey, msg, sig)).toBe(false);
    });

    it('never throws on malformed input', () => {
      const key = generateKeyPair();
      const msg = new Uint8Array([1, 2, 3]);
      const sig = key.sign(msg);
      expect(verifyEd25519(key.publicKey, msg, new Uint8Array(10))).toBe(false);
      expect(verifyEd25519(key.publicKey, msg, new Uint8Array(64))).toBe(false);
      expect(verifyEd25519(new Uint8Array(5), msg, sig)).toBe(false);
      expect(verifyEd25519(new Uint8Array(32), msg, sig)).toBe(false);
      expect(verifyEd25519(new Uint8Array(32).fill(0xff), msg, sig)).toBe(false);
    });
  });
});

describe('sha256', () => {
  it('hashes strings as UTF-8 and bytes as they are', () => {
    expect(encodeBase64(sha256(''))).toBe('47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU');
    expect(sha256('日本')).toEqual(sha256(new TextEncoder().encode('日本')));
    expect(sha256('abc')).toHaveLength(32);
  });
});
