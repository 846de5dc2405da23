import type Database from 'better-sqlite3';
import type { Migration } from '../db/index.js';

/** The searchable keys and the event type each comes from. */
export const SEARCH_KEYS = {
  'content.body': 'm.room.message',
  'content.name': 'm.room.name',
  'content.topic': 'm.room.topic',
} as const;
export type SearchKey = keyof typeof SEARCH_KEYS;

export const SEARCH_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => {
      // Every timeline event in stream order: the search results' context comes from here.
      db.exec(`
        CREATE TABLE se_events (
          pos INTEGER PRIMARY KEY AUTOINCREMENT,
          event_id TEXT NOT NULL UNIQUE,
          room_id TEXT NOT NULL,
          sender TEXT NOT NULL,
          type TEXT NOT NULL,
          room_version TEXT NOT NULL,
          json TEXT NOT NULL,
          redacted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX se_events_room ON se_events (room_id, pos);
        CREATE VIRTUAL TABLE se_fts USING fts5 (value, key UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');
      `);
    },
  },
];

export interface EventRow {
  pos: number;
  event_id: string;
  room_id: string;
  sender: string;
  type: string;
  room_version: string;
  json: string;
  redacted: number;
}

export interface MatchRow extends EventRow {
  score: number;
}

export interface MatchQuery {
  /** An FTS5 expression built by buildMatch, never raw user input. */
  match: string;
  keys: readonly SearchKey[];
  rooms: readonly string[];
  senders?: readonly string[];
  notSenders?: readonly string[];
  order: 'rank' | 'recent';
  /** Keyset cursor: rows strictly after it in the order. */
  after?: { score: number; pos: number };
}

const placeholders = (n: number) => new Array(n).fill('?').join(', ');

/** The search component's tables: the event log (for context) and the FTS5 index. */
export class SearchStorage {
  private readonly insertEvent: Database.Statement<[string, string, string, string, string, string]>;
  private readonly insertFts: Database.Statement<[number, string, string]>;
  private readonly byId: Database.Statement<[string], EventRow>;

  constructor(readonly raw: Database.Database) {
    this.insertEvent = raw.prepare(
      'INSERT OR IGNORE INTO se_events (event_id, room_id, sender, type, room_version, json) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.insertFts = raw.prepare('INSERT INTO se_fts (rowid, value, key) VALUES (?, ?, ?)');
    this.byId = raw.prepare('SELECT * FROM se_events WHERE event_id = ?');
  }

  event(eventId: string): EventRow | undefined {
    return this.byId.get(eventId);
  }

  /** Stores an event and indexes `text` under `key`; false if the event was already stored. */
  add(row: Omit<EventRow, 'pos' | 'redacted'>, indexed: { key: SearchKey; text: string } | undefined): boolean {
    const r = this.insertEvent.run(row.event_id, row.room_id, row.sender, row.type, row.room_version, row.json);
    if (r.changes === 0) return false;
    if (indexed) this.insertFts.run(Number(r.lastInsertRowid), indexed.text, indexed.key);
    return true;
  }

  /** Drops an event from the index and replaces its stored form with the redacted one. */
  redact(pos: number, json: string): void {
    this.raw.prepare('DELETE FROM se_fts WHERE rowid = ?').run(pos);
    this.raw.prepare('UPDATE se_events SET json = ?, redacted = 1 WHERE pos = ?').run(json, pos);
  }

  private where(q: MatchQuery): { sql: string; args: Array<string | number> } {
    const conds = ['se_fts MATCH ?', `se_fts.key IN (${placeholders(q.keys.length)})`, `e.room_id IN (${placeholders(q.rooms.length)})`];
    const args: Array<string | number> = [q.match, ...q.keys, ...q.rooms];
    if (q.senders) {
      conds.push(`e.sender IN (${placeholders(q.senders.length)})`);
      args.push(...q.senders);
    }
    if (q.notSenders && q.notSenders.length > 0) {
      conds.push(`e.sender NOT IN (${placeholders(q.notSenders.length)})`);
      args.push(...q.notSenders);
    }
    return { sql: conds.join(' AND '), args };
  }

  /** Matching rows in the requested order, after the cursor, at most `limit`. */
  matches(q: MatchQuery, limit: number): MatchRow[] {
    if (q.rooms.length === 0 || q.keys.length === 0 || q.senders?.length === 0) return [];
    const w = this.where(q);
    // bm25 is lower for better matches; score = -bm25 so that higher is closer, as the spec wants.
    let cursor = '';
    if (q.after) {
      if (q.order === 'recent') {
        cursor = ' AND e.pos < ?';
        w.args.push(q.after.pos);
      } else {
        cursor = ' AND (-bm25(se_fts) < ? OR (-bm25(se_fts) = ? AND e.pos < ?))';
        w.args.push(q.after.score, q.after.score, q.after.pos);
      }
    }
    const order = q.order === 'recent' ? 'e.pos DESC' : 'score DESC, e.pos DESC';
    const sql = `SELECT e.*, -bm25(se_fts) AS score FROM se_fts JOIN se_events e ON e.pos = se_fts.rowid WHERE ${w.sql}${cursor} ORDER BY ${order} LIMIT ?`;
    return this.raw.prepare<Array<string | number>, MatchRow>(sql).all(...w.args, limit);
  }

  /** How many indexed events match, before visibility checks: the spec's approximate count. */
  count(q: MatchQuery): number {
    if (q.rooms.length === 0 || q.keys.length === 0 || q.senders?.length === 0) return 0;
    const w = this.where(q);
    const sql = `SELECT count(*) AS n FROM se_fts JOIN se_events e ON e.pos = se_fts.rowid WHERE ${w.sql}`;
    return this.raw.prepare<Array<string | number>, { n: number }>(sql).get(...w.args)?.n ?? 0;
  }

  /** Events of a room before (descending) or after (ascending) a position, in batches. */
  neighbours(roomId: string, pos: number, dir: 'before' | 'after', limit: number): EventRow[] {
    const sql =
      dir === 'before'
        ? 'SELECT * FROM se_events WHERE room_id = ? AND pos < ? ORDER BY pos DESC LIMIT ?'
        : 'SELECT * FROM se_events WHERE room_id = ? AND pos > ? ORDER BY pos ASC LIMIT ?';
    return this.raw.prepare<[string, number, number], EventRow>(sql).all(roomId, pos, limit);
  }
}
