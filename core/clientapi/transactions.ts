import { randomBytes } from 'node:crypto';
import { sha256 } from '../crypto/hash.js';
import type { Db } from '../db/index.js';

/** The key column that migration 3 filled (48 bits of a hash); dropped by migration 5. */
function migration3Key(userId: string, deviceId: string, txnId: string, path: string): number {
  const h = sha256(JSON.stringify([userId, deviceId, txnId, path]));
  return Buffer.from(h.buffer, h.byteOffset, 6).readUIntBE(0, 6);
}

const SEED = randomBytes(8);
const SEED_A = SEED.readUInt32LE(0);
const SEED_B = SEED.readUInt32LE(4);

/** A transaction's lookup key in memory: a 53-bit hash of its identity, seeded per process
 * (keys are never stored, so no one can aim collisions at another user's transactions).
 * Collisions only share a map entry; the row's own columns decide. A sha256 cost a send
 * more than the lookup it serves. */
function lookupKey(identity: string): number {
  let a = 0x811c9dc5 ^ SEED_A;
  let b = 0x5bd1e995 ^ SEED_B;
  for (let i = 0; i < identity.length; i++) {
    const c = identity.charCodeAt(i);
    a = Math.imul(a ^ c, 0x01000193);
    b = Math.imul(b ^ c, 0x5bd1e995);
  }
  a = Math.imul(a ^ (a >>> 15), 0x2c1b3c6d);
  a ^= a >>> 13;
  b = Math.imul(b ^ (b >>> 16), 0x297a2d39);
  b ^= b >>> 15;
  return (b & 0x1fffff) * 0x100000000 + (a >>> 0);
}

/** What a transaction is: the device's transaction id on one endpoint. */
function identityOf(userId: string, deviceId: string, txnId: string, path: string): string {
  return JSON.stringify([userId, deviceId, txnId, path]);
}

const MIGRATIONS = [
  {
    version: 1,
    up: (db: import('better-sqlite3').Database) =>
      db.exec(`CREATE TABLE ca_transactions (
        user_id TEXT NOT NULL, device_id TEXT NOT NULL, txn_id TEXT NOT NULL, path TEXT NOT NULL,
        response TEXT NOT NULL, created_ts INTEGER NOT NULL,
        PRIMARY KEY (user_id, device_id, txn_id, path))`),
  },
  {
    // One B-tree instead of a table plus its key's index, and an index to prune by age.
    version: 2,
    up: (db: import('better-sqlite3').Database) =>
      db.exec(`
        CREATE TABLE ca_transactions_v2 (
          user_id TEXT NOT NULL, device_id TEXT NOT NULL, txn_id TEXT NOT NULL, path TEXT NOT NULL,
          response TEXT NOT NULL, created_ts INTEGER NOT NULL,
          PRIMARY KEY (user_id, device_id, txn_id, path)) WITHOUT ROWID;
        INSERT INTO ca_transactions_v2 SELECT user_id, device_id, txn_id, path, response, created_ts FROM ca_transactions;
        DROP TABLE ca_transactions;
        ALTER TABLE ca_transactions_v2 RENAME TO ca_transactions;
        CREATE INDEX ca_transactions_created ON ca_transactions (created_ts);`),
  },
  {
    // Rows in the order they came (appended, so a commit of many dirties a page or two), found
    // through a small integer key. Keyed by the four wide text columns, every insert landed
    // on a random page and split pages of few rows each: about three WAL pages per send.
    version: 3,
    up: (db: import('better-sqlite3').Database) => {
      db.exec(`
        CREATE TABLE ca_txns (
          id INTEGER PRIMARY KEY, key INTEGER NOT NULL,
          user_id TEXT NOT NULL, device_id TEXT NOT NULL, txn_id TEXT NOT NULL, path TEXT NOT NULL,
          response TEXT NOT NULL, created_ts INTEGER NOT NULL);
        CREATE INDEX ca_txns_key ON ca_txns (key);`);
      const put = db.prepare('INSERT INTO ca_txns (key, user_id, device_id, txn_id, path, response, created_ts) VALUES (?, ?, ?, ?, ?, ?, ?)');
      const old = db.prepare('SELECT * FROM ca_transactions ORDER BY created_ts').all() as Array<Record<'user_id' | 'device_id' | 'txn_id' | 'path' | 'response', string> & { created_ts: number }>;
      for (const r of old) put.run(migration3Key(r.user_id, r.device_id, r.txn_id, r.path), r.user_id, r.device_id, r.txn_id, r.path, r.response, r.created_ts);
      db.exec('DROP TABLE ca_transactions');
    },
  },
  {
    // The node keeps each key's rows in memory (TransactionCache.rows): the index on the
    // random key cost a send almost a WAL page of its own.
    version: 4,
    up: (db: import('better-sqlite3').Database) => db.exec('DROP INDEX IF EXISTS ca_txns_key'),
  },
  {
    // The keys are computed in memory from the rows at start (lookupKey): none stored.
    version: 5,
    up: (db: import('better-sqlite3').Database) => db.exec('ALTER TABLE ca_txns DROP COLUMN key'),
  },
];

interface TxnRow {
  id: number;
  user_id: string;
  device_id: string;
  txn_id: string;
  path: string;
}

function keyOfRow(r: TxnRow): number {
  return lookupKey(identityOf(r.user_id, r.device_id, r.txn_id, r.path));
}

/** How long a transaction id is remembered: far longer than any client retries a request. */
export const TRANSACTION_RETENTION_MS = 24 * 60 * 60 * 1000;
const PRUNE_EVERY = 1000;

/**
 * Transaction ids make PUTs with a txnId idempotent per device (spec "Transaction
 * identifiers"): the first response is stored and replayed for retries, also across restarts.
 * Concurrent retries of one transaction share the first one's outcome.
 */
export class TransactionCache {
  private readonly inflight = new Map<string, Promise<unknown>>();
  /** The rows of each lookup key, as the table's index: every row is here (and rows of a
   * transaction that rolled back may be too, which the lookup's column check tells). A key
   * that is not here was never used, as for nearly every send: no read at all. Keeping the
   * rows here instead of in an index on the random key saves a send almost a WAL page of
   * its own. About 40 bytes a row; rows live a day. */
  private readonly rows = new Map<number, number | number[]>();
  private readonly get;
  private readonly put;
  private readonly prune;
  private puts = 0;

  constructor(db: Db) {
    db.migrate('clientapi', MIGRATIONS);
    this.get = db.raw.prepare<[number, string, string, string, string], { response: string }>(
      'SELECT response FROM ca_txns WHERE id = ? AND user_id = ? AND device_id = ? AND txn_id = ? AND path = ?',
    );
    this.put = db.raw.prepare<[string, string, string, string, string, number]>(
      'INSERT INTO ca_txns (user_id, device_id, txn_id, path, response, created_ts) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // The oldest rows come first; in slices, so a backlog after a long pause never stalls a
    // request, and looking at a slice only, so a table with nothing to prune is not scanned.
    this.prune = db.raw.prepare<[number], TxnRow>(
      `DELETE FROM ca_txns WHERE id <= (SELECT MAX(id) FROM (SELECT id, created_ts FROM ca_txns ORDER BY id LIMIT ${PRUNE_EVERY * 2}) WHERE created_ts < ?) RETURNING id, user_id, device_id, txn_id, path`,
    );
    this.pruneOld();
    for (const r of db.raw.prepare<[], TxnRow>('SELECT id, user_id, device_id, txn_id, path FROM ca_txns').iterate()) this.addRow(keyOfRow(r), r.id);
  }

  private addRow(key: number, id: number): void {
    const ids = this.rows.get(key);
    if (ids === undefined) this.rows.set(key, id);
    else if (typeof ids === 'number') this.rows.set(key, [ids, id]);
    else ids.push(id);
  }

  private removeRow(key: number, id: number): void {
    const ids = this.rows.get(key);
    if (ids === id) this.rows.delete(key);
    else if (Array.isArray(ids)) {
      const rest = ids.filter((x) => x !== id);
      if (rest.length === 0) this.rows.delete(key);
      else this.rows.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }

  /** Forgets transaction ids older than the retention; returns how many. */
  pruneOld(now = Date.now()): number {
    const gone = this.prune.all(now - TRANSACTION_RETENTION_MS);
    for (const r of gone) this.removeRow(keyOfRow(r), r.id);
    return gone.length;
  }

  private stored(key: number, userId: string, deviceId: string, txnId: string, path: string, result: unknown): void {
    const id = Number(this.put.run(userId, deviceId, txnId, path, JSON.stringify(result), Date.now()).lastInsertRowid);
    this.addRow(key, id);
    if (++this.puts % PRUNE_EVERY === 0) this.pruneOld();
  }

  private lookup(key: number, userId: string, deviceId: string, txnId: string, path: string): { response: string } | undefined {
    const ids = this.rows.get(key);
    if (ids === undefined) return undefined;
    for (const id of typeof ids === 'number' ? [ids] : ids) {
      const row = this.get.get(id, userId, deviceId, txnId, path);
      if (row) return row;
    }
    return undefined;
  }

  /** Runs `fn` once per (user, device, txnId, path) and returns its stored result after.
   * `fn` may call `record` inside the transaction that makes its effect, so that the result
   * is stored in that same commit (no lost record on a crash, no extra commit); otherwise it
   * is stored once `fn` resolves. */
  async once<T>(
    userId: string,
    deviceId: string,
    txnId: string,
    path: string,
    fn: (record: (result: T) => void) => Promise<T>,
  ): Promise<T> {
    const key = identityOf(userId, deviceId, txnId, path);
    const k = lookupKey(key);
    const stored = this.lookup(k, userId, deviceId, txnId, path);
    if (stored) return JSON.parse(stored.response) as T;
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    let recorded = false;
    const record = (result: T): void => {
      this.stored(k, userId, deviceId, txnId, path, result);
      recorded = true;
    };
    const p = fn(record).then((result) => {
      if (!recorded) this.stored(k, userId, deviceId, txnId, path, result);
      return result;
    });
    this.inflight.set(key, p);
    try {
      return await p;
    } finally {
      this.inflight.delete(key);
    }
  }
}
