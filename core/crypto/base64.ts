/** Unpadded base64 (spec appendix), standard and URL-safe alphabets. */

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export function encodeBase64(bytes: Uint8Array): string {
  const s = asBuffer(bytes).toString('base64');
  // At most two '=' at the end: cheaper than a regex replace on the hot path.
  if (s.endsWith('==')) return s.slice(0, -2);
  if (s.endsWith('=')) return s.slice(0, -1);
  return s;
}

/** Node's base64url output is already unpadded. */
export function encodeBase64Url(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64url');
}

const STANDARD = /^[A-Za-z0-9+/]*$/;
const URL_SAFE = /^[A-Za-z0-9_-]*$/;

/**
 * Decodes standard or URL-safe base64, with or without correct `=` padding (the spec asks
 * decoders to accept both). Throws on other characters, mixed alphabets, a length no encoder
 * produces, or wrong padding. Non-zero trailing bits are tolerated: the spec's own signing-key
 * seed has them.
 */
export function decodeBase64(s: string): Uint8Array {
  let body = s;
  if (body.endsWith('=')) {
    body = body.endsWith('==') ? body.slice(0, -2) : body.slice(0, -1);
    // Padding, when present, must make a whole number of 4-character groups.
    if (s.length % 4 !== 0 || body.length % 4 === 0) throw new Error('invalid base64: bad padding');
  }
  if (body.length % 4 === 1) throw new Error('invalid base64: impossible length');
  if (!STANDARD.test(body) && !URL_SAFE.test(body)) throw new Error('invalid base64: bad character');
  // Node's base64 decoder reads both alphabets.
  return new Uint8Array(Buffer.from(body, 'base64'));
}
