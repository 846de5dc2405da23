import fs from 'node:fs';
import path from 'node:path';
import { decodeBase64, encodeBase64, generateKeyPair, signingKeyFromSeed, type SigningKey } from './crypto/index.js';

/** The identity key file in the data folder: `ed25519 <key id suffix> <unpadded base64 seed>`,
 * the format Synapse uses for signing keys. Mode 0600: it is the node's whole identity. */
export const IDENTITY_FILE = 'identity.key';

export interface Identity {
  key: SigningKey;
  /** Lowercase hex of the 32-byte ed25519 public key. */
  serverName: string;
}

export function serverNameOf(publicKey: Uint8Array): string {
  return Buffer.from(publicKey).toString('hex');
}

/** Reads the identity key, creating it on first start. */
export function loadOrCreateIdentity(dataDir: string): Identity {
  const file = path.join(dataDir, IDENTITY_FILE);
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`cannot read ${file}: ${(e as Error).message}`);
  }
  if (text === undefined) {
    const key = generateKeyPair();
    // 'wx': never overwrite a key another process created in the meantime.
    fs.writeFileSync(file, `ed25519 ${key.keyId.slice('ed25519:'.length)} ${encodeBase64(key.seed)}\n`, { mode: 0o600, flag: 'wx' });
    return { key, serverName: serverNameOf(key.publicKey) };
  }
  const parts = text.trim().split(/\s+/);
  let seed: Uint8Array | undefined;
  try {
    if (parts.length === 3 && parts[0] === 'ed25519') seed = decodeBase64(parts[2]!);
  } catch {
    seed = undefined;
  }
  if (!seed || seed.length !== 32) throw new Error(`${file} is not an ed25519 identity key`);
  if ((fs.statSync(file).mode & 0o077) !== 0) fs.chmodSync(file, 0o600);
  const key = signingKeyFromSeed(seed);
  return { key, serverName: serverNameOf(key.publicKey) };
}

/** The verify key of an Axon server, read from its name (64 lowercase hex digits). */
export function publicKeyFromServerName(serverName: string): Uint8Array | undefined {
  return /^[0-9a-f]{64}$/.test(serverName) ? Uint8Array.from(Buffer.from(serverName, 'hex')) : undefined;
}
