import { generateKeyPair } from '@libp2p/crypto/keys';
import { peerIdFromPrivateKey } from '@libp2p/peer-id';
import { describe, expect, it } from 'vitest';
import { signingKeyFromSeed } from '../core/crypto/index.js';
import { peerIdFromServerName, privateKeyFromSeed, serverNameFromPeerId } from './peerid.js';

// RFC 8032 test vector 1.
const SEED = Buffer.from('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60', 'hex');
const PUB = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

describe('server names and peer ids', () => {
  it('derives the RFC 8032 public key and the matching libp2p key from a seed', () => {
    const key = privateKeyFromSeed(SEED);
    expect(Buffer.from(key.publicKey.raw).toString('hex')).toBe(PUB);
    expect(Buffer.from(key.raw).toString('hex')).toBe(SEED.toString('hex') + PUB);
    const id = peerIdFromPrivateKey(key);
    expect(serverNameFromPeerId(id)).toBe(PUB);
    expect(peerIdFromServerName(PUB).equals(id)).toBe(true);
    // Signatures made by the libp2p key verify as the node's Matrix signing key's.
    const msg = new TextEncoder().encode('hello');
    expect(Buffer.from(key.sign(msg) as Uint8Array).equals(Buffer.from(signingKeyFromSeed(SEED).sign(msg)))).toBe(true);
  });

  it('round-trips names and ids, in object and string form', () => {
    for (let i = 0; i < 5; i++) {
      const name = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex');
      const id = peerIdFromServerName(name);
      expect(id.type).toBe('Ed25519');
      expect(id.toString()).toMatch(/^12D3KooW/);
      expect(serverNameFromPeerId(id)).toBe(name);
      expect(serverNameFromPeerId(id.toString())).toBe(name);
    }
  });

  it('rejects non-ed25519 peer ids and malformed ids and names', async () => {
    const secp = peerIdFromPrivateKey(await generateKeyPair('secp256k1'));
    expect(() => serverNameFromPeerId(secp)).toThrow(/not an ed25519 peer id/);
    expect(() => serverNameFromPeerId(secp.toString())).toThrow(/not an ed25519 peer id/);
    expect(() => serverNameFromPeerId('12D3KooWnotapeerid')).toThrow();
    expect(() => serverNameFromPeerId('')).toThrow();
    for (const bad of ['', 'example.org', PUB.toUpperCase(), PUB.slice(1), `${PUB}00`, `${PUB.slice(0, 63)}g`]) {
      expect(() => peerIdFromServerName(bad)).toThrow(/not an Axon server name/);
    }
    expect(() => privateKeyFromSeed(new Uint8Array(31))).toThrow(/32 bytes/);
  });
});
