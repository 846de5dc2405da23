import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { generateKeyPair, type SigningKey } from '../crypto/index.js';
import { openDatabase, type Db } from '../db/index.js';
import { serverNameOf, publicKeyFromServerName } from '../identity.js';
import { Log } from '../log/index.js';
import type { Logger } from '../logger.js';
import type { KeyProvider } from '../roomserver/input.js';

/** A new folder for a test: under the test run's own temp folder when there is one (the
 * global setup removes it at the end), else under the OS temp dir. */
export function tmpDir(prefix = 'axon-test-'): string {
  return fs.mkdtempSync(path.join(process.env.AXON_TEST_TMP ?? os.tmpdir(), prefix));
}

/** A test server: a real ed25519 key whose hex public key is the server name, as on Axon. */
export interface TestServer {
  name: string;
  key: SigningKey;
  user(localpart: string): string;
}

export function testServer(): TestServer {
  const key = generateKeyPair();
  const name = serverNameOf(key.publicKey);
  return { name, key, user: (l) => `@${l}:${name}` };
}

/** Verify keys come from server names, as federation over libp2p does. */
export const serverNameKeys: KeyProvider = { verifyKey: (server) => publicKeyFromServerName(server) };

export function quietLogger(): Logger {
  return pino({ level: 'silent' });
}

/** A real SQLite file in a temp dir and a log, as a node has them. */
export function testStorage(dir = tmpDir()): { dir: string; db: Db; log: Log; logger: Logger } {
  const logger = quietLogger();
  const db = openDatabase(path.join(dir, 'axon.db'));
  return { dir, db, log: new Log({ logger }), logger };
}
