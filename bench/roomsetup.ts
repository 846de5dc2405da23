/** What the room-level benchmarks start from: a real SQLite file in a temp folder, a log, and
 * a room server with its own key, as a node has them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { generateKeyPair, type SigningKey } from '../core/crypto/index.js';
import { openDatabase, type Db } from '../core/db/index.js';
import { publicKeyFromServerName, serverNameOf } from '../core/identity.js';
import { Log } from '../core/log/index.js';
import type { Logger } from '../core/logger.js';
import { NO_FETCHER, Roomserver } from '../core/roomserver/index.js';

export interface BenchRoomServer {
  dir: string;
  db: Db;
  log: Log;
  logger: Logger;
  key: SigningKey;
  serverName: string;
  rs: Roomserver;
}

export function benchRoomServer(prefix: string): BenchRoomServer {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const db = openDatabase(path.join(dir, 'axon.db'));
  const logger = pino({ level: 'silent' });
  const log = new Log({ logger });
  const key = generateKeyPair();
  const serverName = serverNameOf(key.publicKey);
  const rs = new Roomserver({ db, log, logger, serverName, signingKey: key, keys: { verifyKey: (s) => publicKeyFromServerName(s) }, fetcher: NO_FETCHER });
  return { dir, db, log, logger, key, serverName, rs };
}
