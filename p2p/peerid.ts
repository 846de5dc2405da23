/**
 * Server names and libp2p identities are the same ed25519 key: the server name is the
 * lowercase hex of the 32-byte public key, the PeerId is the identity multihash of that key.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { privateKeyFromRaw, publicKeyFromRaw } from '@libp2p/crypto/keys';
import type { Ed25519PrivateKey, PeerId } from '@libp2p/interface';
import { peerIdFromPublicKey, peerIdFromString } from '@libp2p/peer-id';

const SERVER_NAME = /^[0-9a-f]{64}$/;
// DER prefixes that wrap a raw ed25519 key as PKCS#8 / SPKI for node:crypto.
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX_LENGTH = 12;

export function isServerName(name: string): boolean {
  return SERVER_NAME.test(name);
}

/** The PeerId of an Axon server name; throws on anything but 64 lowercase hex digits. */
export function peerIdFromServerName(name: string): PeerId {
  if (!SERVER_NAME.test(name)) throw new Error(`not an Axon server name: ${JSON.stringify(name.slice(0, 80))}`);
  const key = publicKeyFromRaw(Uint8Array.from(Buffer.from(name, 'hex')));
  if (key.type !== 'Ed25519') throw new Error('not an ed25519 key');
  return peerIdFromPublicKey(key);
}

/** The server name of an ed25519 PeerId (object or string form); throws for other key types
 * and malformed ids. */
export function serverNameFromPeerId(peerId: PeerId | string): string {
  const id = typeof peerId === 'string' ? peerIdFromString(peerId) : peerId;
  if (id.type !== 'Ed25519' || id.publicKey === undefined) throw new Error(`not an ed25519 peer id: ${id.toString()}`);
  return Buffer.from(id.publicKey.raw).toString('hex');
}

/** Like serverNameFromPeerId, undefined instead of a throw. */
export function tryServerNameFromPeerId(peerId: PeerId | string): string | undefined {
  try {
    return serverNameFromPeerId(peerId);
  } catch {
    return undefined;
  }
}

export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  if (seed.length !== 32) throw new Error('ed25519 seed must be 32 bytes');
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  return new Uint8Array(createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_LENGTH));
}

/** The libp2p private key of the node's 32-byte ed25519 seed (libp2p's raw form is seed||pub). */
export function privateKeyFromSeed(seed: Uint8Array): Ed25519PrivateKey {
  const raw = new Uint8Array(64);
  raw.set(seed, 0);
  raw.set(publicKeyFromSeed(seed), 32);
  const key = privateKeyFromRaw(raw);
  if (key.type !== 'Ed25519') throw new Error('not an ed25519 key');
  return key;
}
