import type Database from 'better-sqlite3';
import { StatementCache } from '../db/statements.js';
import type { Migration } from '../db/index.js';

/** One row per (recipient device, message); the row id is the inbox position and the
 * `to-device` topic's offset. Rows go when the device acknowledges them. */
export const TODEVICE_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE td_messages (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          sender TEXT NOT NULL,
          type TEXT NOT NULL,
          content TEXT NOT NULL,
          message_id TEXT NOT NULL,
          remote INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX td_messages_inbox ON td_messages (user_id, device_id, id);
        -- Client transaction ids already handled (PUT is idempotent per device and txn id).
        CREATE TABLE td_txns (
          user_id TEXT NOT NULL,
          device_id TEXT NOT NULL,
          txn_id TEXT NOT NULL,
          PRIMARY KEY (user_id, device_id, txn_id)
        );
        -- EDUs received over federation, so a retried transaction delivers once.
        CREATE TABLE td_received (
          origin TEXT NOT NULL,
          message_id TEXT NOT NULL,
          PRIMARY KEY (origin, message_id)
        );
      `),
  },
  {
    // When each id was claimed, so they can be forgotten once no retry can come; they were
    // kept forever. Ids already there count from the upgrade.
    version: 2,
    up: (db) => {
      db.exec(`ALTER TABLE td_txns ADD COLUMN ts INTEGER NOT NULL DEFAULT 0;
        ALTER TABLE td_received ADD COLUMN ts INTEGER NOT NULL DEFAULT 0;`);
      const now = Date.now();
      db.prepare('UPDATE td_txns SET ts = ?').run(now);
      db.prepare('UPDATE td_received SET ts = ?').run(now);
    },
  },
];

/** Client transaction ids are kept as long as the client API's (a client retries within
 * seconds); ids of messages from other servers a week, as a server retries a transaction
 * for as long as it goes unanswered. */
export const TXN_RETENTION_MS = 24 * 60 * 60 * 1000;
export const RECEIVED_RETENTION_MS = 7 * 24 * 60 * 60 * 1000;
const PRUNE_EVERY = 1000;

export interface MessageRow {
  id: number;
  user_id: string;
  device_id: string;
  sender: string;
  type: string;
  content: string;
  message_id: string;
  remote: number;
}

export class ToDeviceStorage {
  private readonly statements: StatementCache;
  private claims = 0;

  constructor(readonly raw: Database.Database) {
    this.statements = new StatementCache(raw);
  }

  private st(sql: string): Database.Statement {
    return this.statements.get(sql);
  }

  /** Records a transaction id; false if it was already there. */
  claimTxn(userId: string, deviceId: string, txnId: string, now = Date.now()): boolean {
    const fresh = this.st('INSERT OR IGNORE INTO td_txns (user_id, device_id, txn_id, ts) VALUES (?, ?, ?, ?)').run(userId, deviceId, txnId, now).changes > 0;
    if (fresh && ++this.claims % PRUNE_EVERY === 0) this.prune(now);
    return fresh;
  }
  claimReceived(origin: string, messageId: string, now = Date.now()): boolean {
    const fresh = this.st('INSERT OR IGNORE INTO td_received (origin, message_id, ts) VALUES (?, ?, ?)').run(origin, messageId, now).changes > 0;
    if (fresh && ++this.claims % PRUNE_EVERY === 0) this.prune(now);
    return fresh;
  }

  /** Forgets ids past their retention, oldest first, a slice at a time (rows are in the
   * order they were claimed, so a slice is all the rows that need looking at). Returns how
   * many went. */
  prune(now = Date.now()): number {
    let n = 0;
    for (const [table, keep] of [
      ['td_txns', TXN_RETENTION_MS],
      ['td_received', RECEIVED_RETENTION_MS],
    ] as const) {
      n += this.st(
        `DELETE FROM ${table} WHERE rowid <= (SELECT MAX(rowid) FROM (SELECT rowid, ts FROM ${table} ORDER BY rowid LIMIT ${PRUNE_EVERY * 2}) WHERE ts < ?)`,
      ).run(now - keep).changes;
    }
    return n;
  }
  insert(r: Omit<MessageRow, 'id'>): number {
    return Number(
      this.st('INSERT INTO td_messages (user_id, device_id, sender, type, content, message_id, remote) VALUES (@user_id, @device_id, @sender, @type, @content, @message_id, @remote)')
        .run(r).lastInsertRowid,
    );
  }
  after(after: number, limit: number): MessageRow[] {
    return this.st('SELECT * FROM td_messages WHERE id > ? ORDER BY id LIMIT ?').all(after, limit) as MessageRow[];
  }
  /** The highest id ever used: AUTOINCREMENT keeps it even when the rows are gone. */
  maxPos(): number {
    return (this.st("SELECT seq FROM sqlite_sequence WHERE name = 'td_messages'").get() as { seq: number } | undefined)?.seq ?? 0;
  }
  inbox(userId: string, deviceId: string, upTo: number, limit: number): MessageRow[] {
    return this.st('SELECT * FROM td_messages WHERE user_id = ? AND device_id = ? AND remote = 0 AND id <= ? ORDER BY id LIMIT ?').all(userId, deviceId, upTo, limit) as MessageRow[];
  }
  ack(userId: string, deviceId: string, upTo: number): void {
    this.st('DELETE FROM td_messages WHERE user_id = ? AND device_id = ? AND remote = 0 AND id <= ?').run(userId, deviceId, upTo);
  }
  deleteInbox(userId: string, deviceId: string): void {
    this.st('DELETE FROM td_messages WHERE user_id = ? AND device_id = ? AND remote = 0').run(userId, deviceId);
  }
  forgetRemote(upTo: number): void {
    this.st('DELETE FROM td_messages WHERE remote = 1 AND id <= ?').run(upTo);
  }
}
