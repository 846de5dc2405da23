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
];

/**
 * Transaction ids make PUTs with a txnId idempotent per device (spec "Transaction
 * identifiers"): the first response is stored and replayed for retries, also across restarts.
 * Concurrent retries of one transaction share the first one's outcome.
 */
export class TransactionCache {
  private readonly inflight = new Map<string, Promise<unknown>>();
  private readonly get;
  private readonly put;

  constructor(db: Db) {
    db.migrate('clientapi', MIGRATIONS);
    this.get = db.raw.prepare<[string, string, string, string], { response: string }>(
      'SELECT response FROM ca_transactions WHERE user_id = ? AND device_id = ? AND txn_id = ? AND path = ?',
    );
    this.put = db.raw.prepare<[string, string, string, string, string, number]>(
      'INSERT OR IGNORE INTO ca_transactions (user_id, device_id, txn_id, path, response, created_ts) VALUES (?, ?, ?, ?, ?, ?)',
    );
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
      this.put.run(userId, deviceId, txnId, path, JSON.stringify(result), Date.now());
      recorded = true;
    };
    const p = fn(record).then((result) => {
      if (!recorded) this.put.run(userId, deviceId, txnId, path, JSON.stringify(result), Date.now());
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
