import * as noble from '@noble/ed25519';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64 } from './base64.js';
import { canonicalJson } from './canonicaljson.js';
import { generateKeyPair, signingKeyFromSeed } from './ed25519.js';
import { signingBytes, signJson, verifyJsonSignature } from './signing.js';

// Appendix "Cryptographic Test Vectors": this seed, server name "domain", key id "ed25519:1".
const KEY = signingKeyFromSeed(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1'), 'ed25519:1');

describe('JSON signing: the spec appendix test vectors', () => {
  it('signs an empty object', () => {
    const signed = signJson({}, 'domain', KEY);
    expect(signed).toEqual({
      signatures: {
        domain: { 'ed25519:1': 'K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV/7Xg4ahLwYGYZzuHGZKM5ZAQ' },
      },
    });
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', KEY.publicKey)).toBe(true);
  });

  it('signs an object with data values', () => {
    const signed = signJson({ one: 1, two: 'Two' }, 'domain', KEY);
    expect(signed).toEqual({
      one: 1,
      signatures: {
        domain: { 'ed25519:1': 'KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw' },
      },
      two: 'Two',
    });
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', KEY.publicKey)).toBe(true);
  });

  it('the vectors agree with @noble/ed25519', async () => {
    const sig = await noble.signAsync(new TextEncoder().encode('{"one":1,"two":"Two"}'), KEY.seed);
    expect(encodeBase64(sig)).toBe('KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw');
  });
});

describe('JSON signing', () => {
  it('covers everything but signatures and unsigned', () => {
    const signed = signJson({ a: 1, unsigned: { age: 5 } }, 'domain', KEY);
    expect(signed.unsigned).toEqual({ age: 5 });
    expect(new TextDecoder().decode(signingBytes(signed))).toBe('{"a":1}');
    expect(verifyJsonSignature({ ...signed, unsigned: { age: 99 } }, 'domain', 'ed25519:1', KEY.publicKey)).toBe(true);
    expect(verifyJsonSignature({ ...signed, a: 2 }, 'domain', 'ed25519:1', KEY.publicKey)).toBe(false);
    expect(verifyJsonSignature({ ...signed, b: 1 }, 'domain', 'ed25519:1', KEY.publicKey)).toBe(false);
  });

  it('keeps other servers’ and other keys’ signatures, and does not mutate its input', () => {
    const other = generateKeyPair('ed25519:x');
    const second = signingKeyFromSeed(generateKeyPair().seed, 'ed25519:2');
    const input = { a: 1 };
    const once = signJson(input, 'domain', KEY);
    const twice = signJson(signJson(once, 'other', other), 'domain', second);
    expect(input).toEqual({ a: 1 });
    expect(once.signatures).toEqual({ domain: { 'ed25519:1': expect.any(String) } });
    expect(Object.keys(twice.signatures).sort()).toEqual(['domain', 'other']);
    expect(verifyJsonSignature(twice, 'domain', 'ed25519:1', KEY.publicKey)).toBe(true);
    expect(verifyJsonSignature(twice, 'domain', 'ed25519:2', second.publicKey)).toBe(true);
    expect(verifyJsonSignature(twice, 'other', 'ed25519:x', other.publicKey)).toBe(true);
  });

  it('a signature verifies with noble over the canonical bytes', async () => {
    const obj = { z: 'é', a: [1, 2, { c: null }] };
    const signed = signJson(obj, 'domain', KEY);
    const sig = decodeBase64(signed.signatures.domain!['ed25519:1']!);
    expect(await noble.verifyAsync(sig, new TextEncoder().encode(canonicalJson(obj)), KEY.publicKey)).toBe(true);
  });

  it('strict mode refuses to sign floats', () => {
    expect(() => signJson({ a: 1.5 }, 'domain', KEY, { strict: true })).toThrow();
    expect(signJson({ a: 1.5 }, 'domain', KEY).signatures.domain).toBeDefined();
  });

  it('verification never throws: wrong server, key id, malformed signatures', () => {
    const signed = signJson({ a: 1 }, 'domain', KEY);
    const pk = KEY.publicKey;
    expect(verifyJsonSignature(signed, 'other', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:2', pk)).toBe(false);
    expect(verifyJsonSignature(signed, 'domain', 'ed25519:1', generateKeyPair().publicKey)).toBe(false);
    expect(verifyJsonSignature({ a: 1 }, 'domain', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature({ signatures: null }, 'domain', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature({ signatures: { domain: 'x' } }, 'domain', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature({ signatures: { domain: { 'ed25519:1': 5 } } }, 'domain', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature({ signatures: { domain: { 'ed25519:1': '!!!' } } }, 'domain', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature({ ...signed, n: NaN }, 'domain', 'ed25519:1', pk)).toBe(false);
    expect(verifyJsonSignature(signed, 'toString', 'ed25519:1', pk)).toBe(false);
  });
});
