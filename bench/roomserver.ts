import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { generateKeyPair } from '../core/crypto/index.js';
import { openDatabase } from '../core/db/index.js';
import { publicKeyFromServerName, serverNameOf } from '../core/identity.js';
import { Log } from '../core/log/index.js';
import { NO_FETCHER, Roomserver } from '../core/roomserver/index.js';
import { round } from './stats.js';

/** Events/s through the room server's input pipeline: local messages into one room, built,
 * signed, checked, stored and published one after another (as sendEvent does). */
export async function inputPipeline(): Promise<Record<string, number>> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'axon-bench-'));
  const db = openDatabase(path.join(dir, 'axon.db'));
  const logger = pino({ level: 'silent' });
  const log = new Log({ logger });
  const key = generateKeyPair();
  const serverName = serverNameOf(key.publicKey);
  const rs = new Roomserver({
    db,
    log,
    logger,
    serverName,
    signingKey: key,
    keys: { verifyKey: (s) => publicKeyFromServerName(s) },
    fetcher: NO_FETCHER,
  });
  const alice = `@alice:${serverName}`;
  const { roomId } = await rs.createRoom({ creator: alice });
  const send = (i: number) => rs.sendEvent({ roomId, sender: alice, type: 'm.room.message', content: { msgtype: 'm.text', body: `message ${i}` } });
  for (let i = 0; i < 200; i++) await send(i); // warm-up
  const n = 3000;
  const t = performance.now();
  for (let i = 0; i < n; i++) await send(i);
  const seconds = (performance.now() - t) / 1000;
  const sequential = n / seconds;
  // Many senders at once: the room queue still serialises them.
  const t2 = performance.now();
  await Promise.all(Array.from({ length: n }, (_, i) => send(i)));
  const concurrent = n / ((performance.now() - t2) / 1000);
  await log.close();
  db.close();
  fs.rmSync(dir, { recursive: true, force: true });
  return { events: n, sequential_events_per_s: round(sequential, 0), concurrent_events_per_s: round(concurrent, 0) };
}
