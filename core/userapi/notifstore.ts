import type Database from 'better-sqlite3';
import type { Db, Migration } from '../db/index.js';
import { StatementCache } from '../db/statements.js';
import type { UnreadCounts } from './api.js';

/** Notifications (one row per event that notified a user), count changes (the sync
 * position of notification counts) and pushers. */
export const NOTIFICATIONS_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) => {
      db.exec(`
        CREATE TABLE ua_notifications (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL,
          event_id TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          depth INTEGER NOT NULL,
          highlight INTEGER NOT NULL,
          actions TEXT NOT NULL,
          ts INTEGER NOT NULL,
          read INTEGER NOT NULL DEFAULT 0,
          UNIQUE (user_id, event_id)
        );
        CREATE INDEX ua_notifications_unread ON ua_notifications (user_id, room_id, thread_id, read, depth);
        CREATE INDEX ua_notifications_user ON ua_notifications (user_id, id);
        CREATE TABLE ua_notification_changes (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL
        );
        CREATE INDEX ua_notification_changes_user ON ua_notification_changes (user_id, id);
        CREATE TABLE ua_pushers (
          user_id TEXT NOT NULL,
          app_id TEXT NOT NULL,
          pushkey TEXT NOT NULL,
          kind TEXT NOT NULL,
          app_display_name TEXT NOT NULL,
          device_display_name TEXT NOT NULL,
          profile_tag TEXT,
          lang TEXT NOT NULL,
          data TEXT NOT NULL,
          pushkey_ts INTEGER NOT NULL,
          PRIMARY KEY (app_id, pushkey, user_id)
        );
      `);
    },
  },
  {
    // One change row per notifying event (user_id ''), instead of one per notified member.
    version: 2,
    up: (db) => {
      db.exec(`ALTER TABLE ua_notification_changes ADD COLUMN event_id TEXT`);
    },
  },
];

export interface NotificationRow {
  id: number;
  user_id: string;
  room_id: string;
  event_id: string;
  thread_id: string;
  depth: number;
  highlight: number;
  actions: string;
  ts: number;
  read: number;
}

export interface PusherRow {
  user_id: string;
  app_id: string;
  pushkey: string;
  kind: string;
  app_display_name: string;
  device_display_name: string;
  profile_tag: string | null;
  lang: string;
  data: string;
  pushkey_ts: number;
}

/** The thread of unthreaded events and of thread roots. */
export const MAIN_THREAD = 'main';

export class NotificationStorage {
  readonly raw: Database.Database;
  /** Statements prepared once: several run per event and member. */
  private readonly sql: StatementCache;
  private readonly insertStmt;
  private readonly changeStmt;
  private readonly eventChangeStmt;

  constructor(db: Db) {
    db.migrate('notifications', NOTIFICATIONS_MIGRATIONS);
    this.raw = db.raw;
    this.sql = new StatementCache(db.raw);
    this.insertStmt = this.raw.prepare<[string, string, string, string, number, number, string, number]>(
      'INSERT OR IGNORE INTO ua_notifications (user_id, room_id, event_id, thread_id, depth, highlight, actions, ts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.changeStmt = this.raw.prepare<[string, string]>('INSERT INTO ua_notification_changes (user_id, room_id) VALUES (?, ?)');
    this.eventChangeStmt = this.raw.prepare<[string, string]>("INSERT INTO ua_notification_changes (user_id, room_id, event_id) VALUES ('', ?, ?)");
  }

  /** Returns whether the row is new (a redelivered event is ignored). */
  insert(userId: string, roomId: string, eventId: string, threadId: string, depth: number, highlight: boolean, actions: string, ts: number): boolean {
    return this.insertStmt.run(userId, roomId, eventId, threadId, depth, highlight ? 1 : 0, actions, ts).changes > 0;
  }

  /** Marks as read the user's notifications in the room up to `depth` (in one thread, or all
   * when `threadId` is undefined); returns how many changed. */
  markRead(userId: string, roomId: string, depth: number, threadId: string | undefined): number {
    if (threadId === undefined) {
      return this.sql.get('UPDATE ua_notifications SET read = 1 WHERE user_id = ? AND room_id = ? AND read = 0 AND depth <= ?').run(userId, roomId, depth).changes;
    }
    return this.sql
      .get('UPDATE ua_notifications SET read = 1 WHERE user_id = ? AND room_id = ? AND thread_id = ? AND read = 0 AND depth <= ?')
      .run(userId, roomId, threadId, depth).changes;
  }

  /** Records that the user's counts in a room changed; returns the new position. */
  changed(userId: string, roomId: string): number {
    return Number(this.changeStmt.run(userId, roomId).lastInsertRowid);
  }

  /** Records that an event changed the counts of every user it notified (one row for all,
   * which changedRooms joins with their notifications); returns the new position. */
  eventChanged(roomId: string, eventId: string): number {
    return Number(this.eventChangeStmt.run(roomId, eventId).lastInsertRowid);
  }

  head(): number {
    return this.sql.get<[], { id: number | null }>('SELECT MAX(id) AS id FROM ua_notification_changes').get()?.id ?? 0;
  }

  changedRooms(userId: string, from: number, to: number): string[] {
    return this.sql
      .get<[number, number, string, string], { room_id: string }>(
        `SELECT DISTINCT c.room_id FROM ua_notification_changes c WHERE c.id > ? AND c.id <= ? AND (c.user_id = ?
           OR (c.user_id = '' AND EXISTS (SELECT 1 FROM ua_notifications n WHERE n.user_id = ? AND n.event_id = c.event_id)))`,
      )
      .all(from, to, userId, userId)
      .map((r) => r.room_id);
  }

  /** Unread counts per thread of the user in a room. */
  counts(userId: string, roomId: string): Map<string, UnreadCounts> {
    const out = new Map<string, UnreadCounts>();
    for (const r of this.sql
      .get<[string, string], { thread_id: string; n: number; h: number }>(
        'SELECT thread_id, COUNT(*) AS n, SUM(highlight) AS h FROM ua_notifications WHERE user_id = ? AND room_id = ? AND read = 0 GROUP BY thread_id',
      )
      .all(userId, roomId)) {
      out.set(r.thread_id, { notification_count: r.n, highlight_count: r.h });
    }
    return out;
  }

  /** Unread notifications of the user in all rooms (the push badge). */
  unreadTotal(userId: string): number {
    return this.sql.get<[string], { n: number }>('SELECT COUNT(*) AS n FROM ua_notifications WHERE user_id = ? AND read = 0').get(userId)?.n ?? 0;
  }

  /** A page of the user's notifications, newest first, below id `before`. */
  page(userId: string, before: number, limit: number, onlyHighlight: boolean): NotificationRow[] {
    return this.sql
      .get<[string, number, number], NotificationRow>(
        `SELECT * FROM ua_notifications WHERE user_id = ? AND id < ? ${onlyHighlight ? 'AND highlight = 1' : ''} ORDER BY id DESC LIMIT ?`,
      )
      .all(userId, before, limit);
  }

  // ---- pushers ----

  pushers(userId: string): PusherRow[] {
    return this.sql.get<[string], PusherRow>('SELECT * FROM ua_pushers WHERE user_id = ? ORDER BY app_id, pushkey').all(userId);
  }

  pusher(userId: string, appId: string, pushkey: string): PusherRow | undefined {
    return this.sql.get<[string, string, string], PusherRow>('SELECT * FROM ua_pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?').get(userId, appId, pushkey);
  }

  upsertPusher(p: PusherRow): void {
    this.sql
      .get(
        `INSERT INTO ua_pushers (user_id, app_id, pushkey, kind, app_display_name, device_display_name, profile_tag, lang, data, pushkey_ts)
         VALUES (@user_id, @app_id, @pushkey, @kind, @app_display_name, @device_display_name, @profile_tag, @lang, @data, @pushkey_ts)
         ON CONFLICT (app_id, pushkey, user_id) DO UPDATE SET kind = excluded.kind, app_display_name = excluded.app_display_name,
           device_display_name = excluded.device_display_name, profile_tag = excluded.profile_tag, lang = excluded.lang, data = excluded.data`,
      )
      .run(p);
  }

  deletePusher(userId: string, appId: string, pushkey: string): boolean {
    return this.sql.get('DELETE FROM ua_pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?').run(userId, appId, pushkey).changes > 0;
  }

  /** Without `append`, a pusher replaces those of other users with the same app id and key. */
  deleteOthersPushers(userId: string, appId: string, pushkey: string): void {
    this.sql.get('DELETE FROM ua_pushers WHERE app_id = ? AND pushkey = ? AND user_id != ?').run(appId, pushkey, userId);
  }
}
