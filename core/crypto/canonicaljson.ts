/**
 * Canonical JSON (spec appendix "Canonical JSON"): object keys sorted by Unicode code point,
 * no insignificant whitespace, strings as UTF-8 with only the escapes the grammar requires,
 * integers without exponent or fraction. Returns a JS string; its UTF-8 bytes are the encoding.
 */

export class CanonicalJsonError extends Error {
  override readonly name = 'CanonicalJsonError';
}

export interface CanonicalJsonOptions {
  /** Room v6+: reject floats and integers outside [-(2^53)+1, 2^53-1]. */
  strict?: boolean;
}

// A surrogate or a unit in U+E000–U+FFFF: only keys holding one can sort differently by code
// point than by UTF-16 code unit.
const HAS_SURROGATE_OR_HIGH_BMP = /[\ud800-\uffff]/;
// With the u flag a well-formed pair is one code point, so this matches lone surrogates only.
const LONE_SURROGATE = /\p{Cs}/u;
// No `"`, `\`, C0 control or surrogate (paired ones are checked on the slow path).
const NOTHING_TO_ESCAPE = /^[^"\\\u0000-\u001f\ud800-\udfff]*$/;

export function canonicalJson(value: unknown, opts?: CanonicalJsonOptions): string {
  return encodeValue(value, opts?.strict === true);
}

function encodeValue(value: unknown, strict: boolean): string {
  switch (typeof value) {
    case 'string':
      return encodeString(value);
    case 'number':
      return encodeNumber(value, strict);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) return encodeArray(value, strict);
      return encodeObject(value as Record<string, unknown>, strict);
    }
    default:
      throw new CanonicalJsonError(`cannot encode a ${typeof value} as JSON`);
  }
}

function encodeString(s: string): string {
  // Most strings need no escape at all; quoting them directly is much faster.
  if (NOTHING_TO_ESCAPE.test(s)) return `"${s}"`;
  // JSON.stringify escapes exactly `"`, `\`, the C0 controls (\b \t \n \f \r or \u00xx in
  // lowercase hex) and lone surrogates; everything else stays literal, as the grammar wants.
  const out = JSON.stringify(s);
  // A lone surrogate has no UTF-8 encoding: refuse instead of hashing a different string.
  if (out.includes('\\ud') && LONE_SURROGATE.test(s)) {
    throw new CanonicalJsonError('string contains a lone UTF-16 surrogate');
  }
  return out;
}

function encodeNumber(n: number, strict: boolean): string {
  if (!Number.isFinite(n)) throw new CanonicalJsonError(`${n} is not a JSON number`);
  if (Number.isInteger(n)) {
    if (Number.isSafeInteger(n)) return String(n); // String(-0) is "0", as required
    if (strict) throw new CanonicalJsonError(`integer ${n} is outside [-(2^53)+1, 2^53-1]`);
    // String() switches to exponent form at 1e21; integers never have one.
    return BigInt(n).toString();
  }
  if (strict) throw new CanonicalJsonError(`${n} is not an integer`);
  return String(n);
}

function encodeArray(arr: readonly unknown[], strict: boolean): string {
  let out = '[';
  for (let i = 0; i < arr.length; i++) {
    if (i > 0) out += ',';
    const v = arr[i];
    if (v === undefined) throw new CanonicalJsonError('array contains undefined');
    out += encodeValue(v, strict);
  }
  return out + ']';
}

function encodeObject(obj: Record<string, unknown>, strict: boolean): string {
  const keys = Object.keys(obj);
  sortByCodePoint(keys);
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = obj[k];
    // As JSON.stringify does: a property set to undefined is an absent property.
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += encodeString(k) + ':' + encodeValue(v, strict);
  }
  return out + '}';
}

/** Sorts in place by Unicode code point. The default sort compares UTF-16 code units, which
 * agrees with code point order unless a key holds a surrogate (astral character) and another
 * holds a character in U+E000–U+FFFF; only then is the slower comparison needed. */
function sortByCodePoint(keys: string[]): void {
  let needsCodePoints = false;
  for (const k of keys) {
    if (HAS_SURROGATE_OR_HIGH_BMP.test(k)) {
      needsCodePoints = true;
      break;
    }
  }
  if (needsCodePoints) keys.sort(compareCodePoints);
  else keys.sort();
}

export function compareCodePoints(a: string, b: string): number {
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    const ca = a.codePointAt(i)!;
    const cb = b.codePointAt(j)!;
    if (ca !== cb) return ca - cb;
    i += ca > 0xffff ? 2 : 1;
    j += cb > 0xffff ? 2 : 1;
  }
  return a.length - i - (b.length - j);
}
