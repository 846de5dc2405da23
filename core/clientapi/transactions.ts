import type { Db } from '../db/index.js';

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
];

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
  private readonly get;
  private readonly put;
  private readonly prune;
  private puts = 0;

  constructor(db: Db) {
    db.migrate('clientapi', MIGRATIONS);
    this.get = db.raw.prepare<[string, string, string, string], { response: string }>(
      'SELECT response FROM ca_transactions WHERE user_id = ? AND device_id = ? AND txn_id = ? AND path = ?',
    );
    this.put = db.raw.prepare<[string, string, string, string, string, number]>(
      'INSERT OR IGNORE INTO ca_transactions (user_id, device_id, txn_id, path, response, created_ts) VALUES (?, ?, ?, ?, ?, ?)',
    );
    // In slices, so a backlog after a long pause never stalls a request.
    this.prune = db.raw.prepare<[number]>(
      `DELETE FROM ca_transactions WHERE (user_id, device_id, txn_id, path) IN
         (SELECT user_id, device_id, txn_id, path FROM ca_transactions WHERE created_ts < ? ORDER BY created_ts LIMIT ${PRUNE_EVERY * 2})`,
    );
    this.pruneOld();
  }

  /** Forgets transaction ids older than the retention; returns how many. */
  pruneOld(now = Date.now()): number {
    return this.prune.run(now - TRANSACTION_RETENTION_MS).changes;
  }

  private stored(userId: string, deviceId: string, txnId: string, path: string, result: unknown): void {
    this.put.run(userId, deviceId, txnId, path, JSON.stringify(result), Date.now());
    if (++this.puts % PRUNE_EVERY === 0) this.pruneOld();
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
    const stored = this.get.get(userId, deviceId, txnId, path);
    if (stored) return JSON.parse(stored.response) as T;
    const key = JSON.stringify([userId, deviceId, txnId, path]);
    const running = this.inflight.get(key);
    if (running) return running as Promise<T>;
    let recorded = false;
    const record = (result: T): void => {
      this.stored(userId, deviceId, txnId, path, result);
      recorded = true;
    };
    const p = fn(record).then((result) => {
      if (!recorded) this.stored(userId, deviceId, txnId, path, result);
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
