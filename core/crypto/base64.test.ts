import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decodeBase64, encodeBase64, encodeBase64Url } from './base64.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

describe('unpadded base64: the spec appendix examples', () => {
  it.each([
    ['', ''],
    ['f', 'Zg'],
    ['fo', 'Zm8'],
    ['foo', 'Zm9v'],
    ['foob', 'Zm9vYg'],
    ['fooba', 'Zm9vYmE'],
    ['foobar', 'Zm9vYmFy'],
  ])('UNPADDED_BASE64(%j) = %j', (input, expected) => {
    expect(encodeBase64(utf8(input))).toBe(expected);
    expect(encodeBase64Url(utf8(input))).toBe(expected);
    expect(decodeBase64(expected)).toEqual(utf8(input));
  });
});

describe('base64', () => {
  it('uses + and / in the standard alphabet, - and _ in the URL-safe one', () => {
    const bytes = new Uint8Array([0xfb, 0xff, 0xbf]);
    expect(encodeBase64(bytes)).toBe('+/+/');
    expect(encodeBase64Url(bytes)).toBe('-_-_');
    expect(decodeBase64('+/+/')).toEqual(bytes);
    expect(decodeBase64('-_-_')).toEqual(bytes);
  });

  it('encodes a view into a larger buffer by its own bytes', () => {
    const big = new Uint8Array([1, 2, 3, 4, 5]);
    expect(encodeBase64(big.subarray(1, 3))).toBe(encodeBase64(new Uint8Array([2, 3])));
  });

  it('accepts correct padding and returns a plain Uint8Array', () => {
    expect(decodeBase64('Zg==')).toEqual(utf8('f'));
    expect(decodeBase64('Zm8=')).toEqual(utf8('fo'));
    expect(decodeBase64('Zm9v')).toEqual(utf8('foo'));
    expect(Object.getPrototypeOf(decodeBase64('Zm9v'))).toBe(Uint8Array.prototype);
  });

  it('tolerates non-zero trailing bits (the spec’s own seed has them)', () => {
    expect(decodeBase64('YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1')).toHaveLength(32);
  });

  it.each(['Z', 'Zm9vY', 'Zg=', 'Zm9v=', 'Zm8==', 'Zg===', '=', 'Zm9v!', 'Zm 9v', 'Zm9\n', '+/-_', 'é'])('rejects %j', (s) => {
    expect(() => decodeBase64(s)).toThrow();
  });

  it('round-trips random bytes in both alphabets', () => {
    for (let n = 0; n < 70; n++) {
      const bytes = new Uint8Array(randomBytes(n));
      expect(decodeBase64(encodeBase64(bytes))).toEqual(bytes);
      expect(decodeBase64(encodeBase64Url(bytes))).toEqual(bytes);
      expect(encodeBase64(bytes)).not.toContain('=');
    }
  });
});
