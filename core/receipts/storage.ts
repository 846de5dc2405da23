import type Database from 'better-sqlite3';
import type { Migration } from '../db/index.js';
import type { ReceiptType } from './api.js';

/** One row per receipt move; the newest row of a (room, user, type, thread) is the current
 * receipt, and the row id is the `receipt` topic's offset. */
export const RECEIPTS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE rc_receipts (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          room_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          type TEXT NOT NULL,
          thread_id TEXT NOT NULL, -- '' for an unthreaded receipt
          event_id TEXT NOT NULL,
          depth INTEGER NOT NULL,
          ts INTEGER NOT NULL
        );
        CREATE INDEX rc_receipts_key ON rc_receipts (room_id, user_id, type, thread_id, id);
      `),
  },
];

export interface ReceiptRow {
  id: number;
  room_id: string;
  user_id: string;
  type: ReceiptType;
  thread_id: string;
  event_id: string;
  depth: number;
  ts: number;
}

export class ReceiptsStorage {
  private readonly s;

  constructor(readonly raw: Database.Database) {
    this.s = {
      current: raw.prepare<[string, string, string, string], ReceiptRow>(
        'SELECT * FROM rc_receipts WHERE room_id = ? AND user_id = ? AND type = ? AND thread_id = ? ORDER BY id DESC LIMIT 1',
      ),
      insert: raw.prepare<[string, string, string, string, string, number, number]>(
        'INSERT INTO rc_receipts (room_id, user_id, type, thread_id, event_id, depth, ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      after: raw.prepare<[number, number], ReceiptRow>('SELECT * FROM rc_receipts WHERE id > ? ORDER BY id LIMIT ?'),
      head: raw.prepare<[], { h: number | null }>('SELECT MAX(id) AS h FROM rc_receipts'),
    };
  }

  current(roomId: string, userId: string, type: string, threadId: string): ReceiptRow | undefined {
    return this.s.current.get(roomId, userId, type, threadId);
  }
  insert(r: Omit<ReceiptRow, 'id'>): number {
    return Number(this.s.insert.run(r.room_id, r.user_id, r.type, r.thread_id, r.event_id, r.depth, r.ts).lastInsertRowid);
  }
  after(id: number, limit: number): ReceiptRow[] {
    return this.s.after.all(id, limit);
  }
  head(): number {
    return this.s.head.get()?.h ?? 0;
  }
}
