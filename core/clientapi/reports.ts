import type { Db } from '../db/index.js';

const MIGRATIONS = [
  {
    version: 1,
    up: (db: import('better-sqlite3').Database) =>
      db.exec(`CREATE TABLE ca_reports (
        id INTEGER PRIMARY KEY,
        kind TEXT NOT NULL CHECK (kind IN ('event', 'room', 'user')),
        reporter TEXT NOT NULL,
        room_id TEXT,
        event_id TEXT,
        user_id TEXT,
        reason TEXT NOT NULL,
        received_ts INTEGER NOT NULL)`),
  },
];

export interface NewReport {
  kind: 'event' | 'room' | 'user';
  reporter: string;
  roomId?: string;
  eventId?: string;
  /** The reported user, or the sender of the reported event. */
  userId?: string;
  reason: string;
}

export interface ReportRow {
  id: number;
  kind: 'event' | 'room' | 'user';
  reporter: string;
  room_id: string | null;
  event_id: string | null;
  user_id: string | null;
  reason: string;
  received_ts: number;
}

/** Content reports (spec "Reporting content"), kept for the node's admins to read. */
export class ContentReports {
  private readonly insert;
  private readonly listBackwards;
  private readonly listForwards;
  private readonly count;

  constructor(db: Db) {
    db.migrate('clientapi.reports', MIGRATIONS);
    this.insert = db.raw.prepare<[string, string, string | null, string | null, string | null, string, number]>(
      'INSERT INTO ca_reports (kind, reporter, room_id, event_id, user_id, reason, received_ts) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.listBackwards = db.raw.prepare<[string, number, number], ReportRow>('SELECT * FROM ca_reports WHERE kind = ? ORDER BY id DESC LIMIT ? OFFSET ?');
    this.listForwards = db.raw.prepare<[string, number, number], ReportRow>('SELECT * FROM ca_reports WHERE kind = ? ORDER BY id LIMIT ? OFFSET ?');
    this.count = db.raw.prepare<[string], { n: number }>('SELECT COUNT(*) AS n FROM ca_reports WHERE kind = ?');
  }

  add(r: NewReport, now = Date.now()): number {
    return Number(this.insert.run(r.kind, r.reporter, r.roomId ?? null, r.eventId ?? null, r.userId ?? null, r.reason, now).lastInsertRowid);
  }

  /** A page of one kind: `from` reports skipped, newest first (dir b) or oldest first (f),
   * as Synapse's admin API pages them. */
  page(kind: NewReport['kind'], from: number, limit: number, dir: 'b' | 'f'): { rows: ReportRow[]; total: number } {
    const rows = (dir === 'b' ? this.listBackwards : this.listForwards).all(kind, limit, from);
    return { rows, total: this.count.get(kind)!.n };
  }
}
