export { canonicalJson, compareCodePoints, CanonicalJsonError, type CanonicalJsonOptions } from './canonicaljson.js';
export { decodeBase64, encodeBase64, encodeBase64Url } from './base64.js';
export { sha256 } from './hash.js';
export { DEFAULT_KEY_ID, generateKeyPair, signingKeyFromSeed, verifyEd25519, type SigningKey } from './ed25519.js';
export { signingBytes, signJson, verifyJsonSignature, type JsonSignatures } from './signing.js';
