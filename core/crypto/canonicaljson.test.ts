import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, compareCodePoints } from './canonicaljson.js';

describe('canonical JSON: every example of the spec appendix', () => {
  // The inputs are the appendix's JSON texts, parsed as a receiver would parse them.
  it.each([
    ['{}', '{}'],
    ['{\n    "one": 1,\n    "two": "Two"\n}', '{"one":1,"two":"Two"}'],
    ['{\n    "b": "2",\n    "a": "1"\n}', '{"a":"1","b":"2"}'],
    ['{"b":"2","a":"1"}', '{"a":"1","b":"2"}'],
    [
      `{
    "auth": {
        "success": true,
        "mxid": "@john.doe:example.com",
        "profile": {
            "display_name": "John Doe",
            "three_pids": [
                {
                    "medium": "email",
                    "address": "john.doe@example.org"
                },
                {
                    "medium": "msisdn",
                    "address": "123456789"
                }
            ]
        }
    }
}`,
      '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe","three_pids":[{"address":"john.doe@example.org","medium":"email"},{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ],
    ['{\n    "a": "日本語"\n}', '{"a":"日本語"}'],
    ['{\n    "本": 2,\n    "日": 1\n}', '{"日":1,"本":2}'],
    ['{\n    "a": "\\u65E5"\n}', '{"a":"日"}'],
    ['{\n    "a": null\n}', '{"a":null}'],
    ['{\n    "a": -0,\n    "b": 1e10\n}', '{"a":0,"b":10000000000}'],
  ])('%s', (input, expected) => {
    const value: unknown = JSON.parse(input);
    expect(canonicalJson(value)).toBe(expected);
    expect(canonicalJson(value, { strict: true })).toBe(expected);
  });
});

describe('canonical JSON: strings', () => {
  it('escapes exactly the grammar’s escapes and nothing else', () => {
    const s = 'q"b\\\n\t\r\b\f\u0001\u000b\u001f\u007f/é\u2028😀';
    expect(canonicalJson(s)).toBe('"q\\"b\\\\\\n\\t\\r\\b\\f\\u0001\\u000b\\u001f\u007f/é\u2028😀"');
  });

  it('matches the grammar’s escaped forms for every ASCII control character', () => {
    const named: Record<number, string> = { 8: '\\b', 9: '\\t', 10: '\\n', 12: '\\f', 13: '\\r' };
    for (let c = 0; c < 0x20; c++) {
      const expected = named[c] ?? `\\u00${c.toString(16).padStart(2, '0')}`;
      expect(canonicalJson(String.fromCharCode(c))).toBe(`"${expected}"`);
    }
  });

  it('refuses lone surrogates, which have no UTF-8 form, but not a literal "\\ud800" text', () => {
    expect(() => canonicalJson({ a: '\ud800' })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ '\udc00': 1 })).toThrow(CanonicalJsonError);
    expect(canonicalJson('\\ud800')).toBe('"\\\\ud800"');
  });
});

describe('canonical JSON: key order', () => {
  it('sorts by code point, not by UTF-16 unit', () => {
    // U+1F600 is D83D DE00 in UTF-16, below U+FF21 by code unit but above it by code point.
    expect(canonicalJson({ '\u{1F600}': 1, '\uFF21': 2, a: 3 })).toBe('{"a":3,"Ａ":2,"😀":1}');
    expect(canonicalJson({ '\u{1F600}b': 1, '\u{1F600}a': 2 })).toBe('{"😀a":2,"😀b":1}');
    expect(compareCodePoints('\u{1F600}', '\uFF21')).toBeGreaterThan(0);
    expect(compareCodePoints('a', 'ab')).toBeLessThan(0);
    expect(compareCodePoints('ab', 'ab')).toBe(0);
  });

  it('agrees with a reference sort over many random keys', () => {
    const alphabet = ['a', 'B', '_', 'é', '日', '\uE000', '\uFFFD', '😀', '\u{10000}', '\u{1F4A9}'];
    const keys = new Set<string>();
    for (let i = 0; i < 300; i++) {
      let k = '';
      for (let j = 0; j < 1 + (i % 4); j++) k += alphabet[(i * 7 + j * 13 + (i >> 2)) % alphabet.length];
      keys.add(k);
    }
    const obj = Object.fromEntries([...keys].map((k, i) => [k, i]));
    const byCodePoint = [...keys].sort((x, y) => {
      const a = [...x].map((c) => c.codePointAt(0)!);
      const b = [...y].map((c) => c.codePointAt(0)!);
      for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
      return a.length - b.length;
    });
    const out = JSON.parse(canonicalJson(obj)) as Record<string, number>;
    expect(Object.keys(out)).toEqual(byCodePoint.filter((k) => !/^[0-9]+$/.test(k)));
    expect(canonicalJson(obj).startsWith(`{${JSON.stringify(byCodePoint[0])}`)).toBe(true);
  });

  it('sorts integer-like keys as strings too', () => {
    expect(canonicalJson({ b: 1, '10': 2, '9': 3, a: 4 })).toBe('{"10":2,"9":3,"a":4,"b":1}');
  });
});

describe('canonical JSON: numbers and other values', () => {
  it('strict mode (v6+) refuses floats and integers outside the safe range', () => {
    expect(() => canonicalJson({ a: 1.5 }, { strict: true })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson([2 ** 53], { strict: true })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson([-(2 ** 53)], { strict: true })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ deep: [{ x: 0.1 }] }, { strict: true })).toThrow(/not an integer/);
    expect(canonicalJson([2 ** 53 - 1, -(2 ** 53) + 1], { strict: true })).toBe('[9007199254740991,-9007199254740991]');
  });

  it('lax mode (v1–5) allows floats and big integers, written without exponent', () => {
    expect(canonicalJson({ a: 1.5 })).toBe('{"a":1.5}');
    expect(canonicalJson([2 ** 53, 1e21, -1e22])).toBe('[9007199254740992,1000000000000000000000,-10000000000000000000000]');
  });

  it('refuses NaN, infinities and non-JSON values in both modes', () => {
    for (const strict of [false, true]) {
      expect(() => canonicalJson({ a: NaN }, { strict })).toThrow(CanonicalJsonError);
      expect(() => canonicalJson({ a: Infinity }, { strict })).toThrow(CanonicalJsonError);
      expect(() => canonicalJson({ a: -Infinity }, { strict })).toThrow(CanonicalJsonError);
      expect(() => canonicalJson({ a: () => 1 }, { strict })).toThrow(CanonicalJsonError);
      expect(() => canonicalJson({ a: 1n }, { strict })).toThrow(CanonicalJsonError);
      expect(() => canonicalJson([undefined], { strict })).toThrow(CanonicalJsonError);
    }
  });

  it('treats an undefined property as absent, as JSON.stringify does', () => {
    expect(canonicalJson({ a: undefined, b: [true, false, null] })).toBe('{"b":[true,false,null]}');
  });

  it('round-trips through JSON.parse', () => {
    const v = { z: [1, { y: 'é\n', x: [] }], a: { '': {} }, m: -42 };
    const out = canonicalJson(v);
    expect(JSON.parse(out)).toEqual(v);
    expect(canonicalJson(JSON.parse(out))).toBe(out);
  });
});

describe('canonical JSON: randomised comparison with a reference encoder', () => {
  // Reference: keys ordered by their arrays of code points, strings by JSON.stringify.
  const codePoints = (s: string) => Array.from(s, (c) => c.codePointAt(0)!);
  const byCodePoints = (x: string, y: string) => {
    const a = codePoints(x);
    const b = codePoints(y);
    for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
    return a.length - b.length;
  };
  const reference = (x: unknown): string => {
    if (Array.isArray(x)) return `[${x.map(reference).join(',')}]`;
    if (typeof x !== 'object' || x === null) return JSON.stringify(x);
    const obj = x as Record<string, unknown>;
    const keys = Object.keys(obj).sort(byCodePoints);
    return `{${keys.map((k) => `${JSON.stringify(k)}:${reference(obj[k])}`).join(',')}}`;
  };

  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const CHARS = ['a', 'Z', '"', '\\', '\n', '\u0000', '\u001f', '\u007f', 'é', '\u2028', '日', '\uE000', '\uFFFF', '😀', '\u{10FFFF}', '/', ' '];
  const randomString = () => Array.from({ length: rand(6) }, () => CHARS[rand(CHARS.length)]).join('');
  const randomValue = (depth: number): unknown => {
    switch (rand(depth > 3 ? 4 : 6)) {
      case 0:
        return randomString();
      case 1:
        return rand(2) === 0 ? rand(1_000_000) - 500_000 : Number.MAX_SAFE_INTEGER - rand(10);
      case 2:
        return [true, false, null][rand(3)];
      case 3:
        return rand(10);
      case 4:
        return Array.from({ length: rand(4) }, () => randomValue(depth + 1));
      default:
        return Object.fromEntries(Array.from({ length: rand(5) }, () => [randomString(), randomValue(depth + 1)]));
    }
  };

  it('agrees on 500 random values', () => {
    for (let i = 0; i < 500; i++) {
      const value = randomValue(0);
      expect(canonicalJson(value, { strict: true })).toBe(reference(value));
    }
  });
});
