import type Database from 'better-sqlite3';
import type { Db, Migration } from '../db/index.js';
import { StatementCache } from '../db/statements.js';
import type { UnreadCounts } from './api.js';

/** Notifications (one row per event that notified local users, with them in it), unread
 * counts with the sync position of their last change, read state, and pushers. */
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
  {
    // Counts are kept per (user, room, thread) rather than counted on every /sync, and carry
    // the position of their last change (which replaces the change log). Notifications are
    // clustered by user, and lose the (user_id, event_id) index: its random keys dirtied a
    // page per notified member on every commit.
    version: 3,
    up: (db) => {
      const head = (db.prepare('SELECT MAX(id) AS id FROM ua_notification_changes').get() as { id: number | null }).id ?? 0;
      db.exec(`
        CREATE TABLE ua_notifications_v3 (
          user_id TEXT NOT NULL,
          id INTEGER NOT NULL,
          room_id TEXT NOT NULL,
          event_id TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          depth INTEGER NOT NULL,
          highlight INTEGER NOT NULL,
          actions TEXT NOT NULL,
          ts INTEGER NOT NULL,
          read INTEGER NOT NULL DEFAULT 0,
          PRIMARY KEY (user_id, id)
        ) WITHOUT ROWID;
        INSERT INTO ua_notifications_v3 (user_id, id, room_id, event_id, thread_id, depth, highlight, actions, ts, read)
          SELECT user_id, id, room_id, event_id, thread_id, depth, highlight, actions, ts, read FROM ua_notifications;
        DROP TABLE ua_notifications;
        ALTER TABLE ua_notifications_v3 RENAME TO ua_notifications;
        CREATE INDEX ua_notifications_unread ON ua_notifications (user_id, room_id, thread_id, read, depth);
        CREATE TABLE ua_notification_counts (
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          notifications INTEGER NOT NULL,
          highlights INTEGER NOT NULL,
          pos INTEGER NOT NULL,
          PRIMARY KEY (user_id, room_id, thread_id)
        ) WITHOUT ROWID;
        CREATE TABLE ua_notification_stream (id INTEGER PRIMARY KEY CHECK (id = 0), pos INTEGER NOT NULL);
        DROP TABLE ua_notification_changes;
      `);
      db.prepare(
        `INSERT INTO ua_notification_counts (user_id, room_id, thread_id, notifications, highlights, pos)
           SELECT user_id, room_id, thread_id, COUNT(*), SUM(highlight), ? FROM ua_notifications WHERE read = 0 GROUP BY user_id, room_id, thread_id`,
      ).run(head);
      db.prepare('INSERT INTO ua_notification_stream (id, pos) VALUES (0, ?)').run(head);
    },
  },
  {
    // One row per notifying event, with the users it notified in it, instead of one per
    // user: per-user rows put each member's notifications in its own part of the B-tree, so
    // every commit dirtied (and wrote to the WAL) a page or two per notified member. Read
    // state becomes the depth each user has read to, per thread; a room's notifications are
    // reached through (room, depth).
    version: 4,
    up: (db) => {
      db.exec(`
        CREATE TABLE ua_notified_events (
          id INTEGER PRIMARY KEY,
          room_id TEXT NOT NULL,
          event_id TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          depth INTEGER NOT NULL,
          ts INTEGER NOT NULL,
          users TEXT NOT NULL
        );
        INSERT INTO ua_notified_events (id, room_id, event_id, thread_id, depth, ts, users)
          SELECT MAX(id), room_id, event_id, MIN(thread_id), MIN(depth), MIN(ts), json_group_object(user_id, json_array(highlight, json(actions)))
          FROM ua_notifications GROUP BY room_id, event_id;
        CREATE INDEX ua_notified_events_room ON ua_notified_events (room_id, depth);
        CREATE TABLE ua_notification_read (
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL,
          thread_id TEXT NOT NULL,
          depth INTEGER NOT NULL,
          PRIMARY KEY (user_id, room_id, thread_id)
        ) WITHOUT ROWID;
        INSERT INTO ua_notification_read (user_id, room_id, thread_id, depth)
          SELECT user_id, room_id, thread_id, MAX(depth) FROM ua_notifications WHERE read = 1 GROUP BY user_id, room_id, thread_id;
        INSERT OR IGNORE INTO ua_notification_counts (user_id, room_id, thread_id, notifications, highlights, pos)
          SELECT user_id, room_id, thread_id, 0, 0, 0 FROM ua_notifications GROUP BY user_id, room_id, thread_id;
        DROP TABLE ua_notifications;
      `);
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

/** One event that notified one user, as the consumer hands it over. */
export interface NewNotification {
  userId: string;
  roomId: string;
  eventId: string;
  threadId: string;
  depth: number;
  highlight: boolean;
  actions: string;
  ts: number;
}

/** How long a read notification stays listed in GET /notifications. */
export const READ_NOTIFICATION_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** The thread of unthreaded events and of thread roots. */
export const MAIN_THREAD = 'main';
/** The read state of an unthreaded receipt, which reads every thread. */
const UNTHREADED = '';

/** The user's [highlight, actions] in an event's users JSON, if it notified them. */
function notifiedIn(users: string, userId: string): [number, unknown] | undefined {
  // Most rows of a room notify someone else: skip those without parsing.
  if (!users.includes(JSON.stringify(userId))) return undefined;
  const all = JSON.parse(users) as Record<string, [number, unknown]>;
  return Object.hasOwn(all, userId) ? all[userId] : undefined;
}

const USER_JSON_CACHE_SIZE = 10_000;

/** A string as JSON; user ids seldom hold anything to escape, so most are only quoted. */
const PLAIN = /^[^"\\\u0000-\u001f\u2028\u2029\ud800-\udfff]*$/;
function jsonString(s: string): string {
  return PLAIN.test(s) ? `"${s}"` : JSON.stringify(s);
}

export class NotificationStorage {
  readonly raw: Database.Database;
  /** Statements prepared once: several run per event and member. */
  private readonly sql: StatementCache;
  private readonly insertStmt;
  private readonly bumpStmt;
  private readonly streamStmt;
  /** The last notification id and the stream position, kept here: every write is ours. */
  private lastId: number;
  private pos: number;
  /** User ids as JSON strings: each event's row names its notified users again. */
  private readonly userJsonCache = new Map<string, string>();
  /** Users with at least one pusher: most users have none, and most events need no lookup. */
  private readonly withPushers = new Set<string>();

  constructor(db: Db) {
    db.migrate('notifications', NOTIFICATIONS_MIGRATIONS);
    this.raw = db.raw;
    this.sql = new StatementCache(db.raw);
    this.insertStmt = this.raw.prepare<[number, string, string, string, number, number, string]>(
      'INSERT INTO ua_notified_events (id, room_id, event_id, thread_id, depth, ts, users) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    this.bumpStmt = this.raw.prepare<[string, string, string, number, number, number]>(
      `INSERT INTO ua_notification_counts (user_id, room_id, thread_id, notifications, highlights, pos) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, thread_id) DO UPDATE SET notifications = notifications + excluded.notifications,
         highlights = highlights + excluded.highlights, pos = excluded.pos`,
    );
    this.streamStmt = this.raw.prepare<[number]>('UPDATE ua_notification_stream SET pos = ? WHERE id = 0');
    this.lastId = this.raw.prepare<[], { id: number | null }>('SELECT MAX(id) AS id FROM ua_notified_events').get()?.id ?? 0;
    this.pos = this.raw.prepare<[], { pos: number }>('SELECT pos FROM ua_notification_stream WHERE id = 0').get()?.pos ?? 0;
    for (const r of this.raw.prepare<[], { user_id: string }>('SELECT DISTINCT user_id FROM ua_pushers').all()) this.withPushers.add(r.user_id);
  }

  private userJson(userId: string): string {
    let j = this.userJsonCache.get(userId);
    if (j === undefined) {
      if (this.userJsonCache.size >= USER_JSON_CACHE_SIZE) this.userJsonCache.clear();
      this.userJsonCache.set(userId, (j = jsonString(userId)));
    }
    return j;
  }

  /** Stores notifications and bumps their users' counts, all at one new stream position;
   * returns it. Call inside the transaction that commits the consumer's offset: the
   * in-memory id and position are only rolled back with a process restart. Notifications
   * of one event must be consecutive in `batch` (as the consumer adds them). */
  insert(batch: readonly NewNotification[]): number {
    if (batch.length === 0) return this.pos;
    const pos = this.pos + 1;
    // Per room and thread (one key per event), then per user: the user ids are the room's
    // member strings, whose hashes the maps keep, where a joined key would be a new string.
    const counts = new Map<string, Map<string, { n: NewNotification; notifications: number; highlights: number }>>();
    let id = this.lastId;
    for (let i = 0; i < batch.length; ) {
      const first = batch[i]!;
      const place = `${first.roomId}\u0000${first.threadId}`;
      let byUser = counts.get(place);
      if (!byUser) counts.set(place, (byUser = new Map()));
      // The users it notified, as JSON: {"@u:x": [highlight, actions], ...}; actions are
      // already JSON, so the object is written, not built and stringified.
      let users = '';
      for (; i < batch.length && batch[i]!.eventId === first.eventId && batch[i]!.roomId === first.roomId; i++) {
        const n = batch[i]!;
        users += `${users ? ',' : '{'}${this.userJson(n.userId)}:[${n.highlight ? 1 : 0},${n.actions}]`;
        const c = byUser.get(n.userId);
        if (c) {
          c.notifications++;
          c.highlights += n.highlight ? 1 : 0;
        } else byUser.set(n.userId, { n, notifications: 1, highlights: n.highlight ? 1 : 0 });
      }
      this.insertStmt.run(++id, first.roomId, first.eventId, first.threadId, first.depth, first.ts, `${users}}`);
    }
    for (const byUser of counts.values()) for (const c of byUser.values()) this.bumpStmt.run(c.n.userId, c.n.roomId, c.n.threadId, c.notifications, c.highlights, pos);
    this.streamStmt.run(pos);
    this.lastId = id;
    this.pos = pos;
    return pos;
  }

  /** The depths the user has read the room to: per thread, and UNTHREADED for all threads. */
  private readDepths(userId: string, roomId: string): Map<string, number> {
    return new Map(
      this.sql
        .get<[string, string], { thread_id: string; depth: number }>('SELECT thread_id, depth FROM ua_notification_read WHERE user_id = ? AND room_id = ?')
        .all(userId, roomId)
        .map((r) => [r.thread_id, r.depth]),
    );
  }

  /** Marks as read the user's notifications in the room up to `depth` (in one thread, or all
   * when `threadId` is undefined) and recounts them; returns how many became read. */
  markRead(userId: string, roomId: string, depth: number, threadId: string | undefined): number {
    const key = threadId ?? UNTHREADED;
    // Recounted even when the depth read does not move: a late event below it counted as unread.
    const reads = this.readDepths(userId, roomId);
    if ((reads.get(key) ?? -Infinity) < depth) {
      this.sql
        .get('INSERT INTO ua_notification_read (user_id, room_id, thread_id, depth) VALUES (?, ?, ?, ?) ON CONFLICT DO UPDATE SET depth = excluded.depth')
        .run(userId, roomId, key, depth);
      reads.set(key, depth);
    }
    const readTo = (thread: string) => Math.max(reads.get(thread) ?? -Infinity, reads.get(UNTHREADED) ?? -Infinity);
    // What stays unread: the user's notifications above the depth read, in the threads read.
    const old = this.counts(userId, roomId);
    const after = new Map<string, { n: number; h: number }>();
    const rows = this.sql
      .get<[string, number], { thread_id: string; depth: number; users: string }>('SELECT thread_id, depth, users FROM ua_notified_events WHERE room_id = ? AND depth > ?')
      .iterate(roomId, depth);
    for (const r of rows) {
      if ((threadId !== undefined && r.thread_id !== threadId) || r.depth <= readTo(r.thread_id)) continue;
      const mine = notifiedIn(r.users, userId);
      if (!mine) continue;
      const c = after.get(r.thread_id) ?? { n: 0, h: 0 };
      c.n++;
      c.h += mine[0];
      after.set(r.thread_id, c);
    }
    const threads = threadId === undefined ? [...old.keys()] : old.has(threadId) ? [threadId] : [];
    let changed = 0;
    for (const t of threads) changed += Math.max(0, old.get(t)!.notification_count - (after.get(t)?.n ?? 0));
    if (changed === 0) return 0;
    const pos = ++this.pos;
    const set = this.sql.get('UPDATE ua_notification_counts SET notifications = ?, highlights = ?, pos = ? WHERE user_id = ? AND room_id = ? AND thread_id = ?');
    for (const t of threads) set.run(after.get(t)?.n ?? 0, after.get(t)?.h ?? 0, pos, userId, roomId, t);
    this.streamStmt.run(pos);
    this.pruneRead(roomId);
    return changed;
  }

  /** Notifications are kept for GET /notifications for a while after everyone read them (as
   * Synapse does), then go: the table would otherwise grow with every message forever. Looks
   * at the room's oldest few only, so a receipt never scans a room's history. */
  private pruneRead(roomId: string): void {
    const cutoff = Date.now() - READ_NOTIFICATION_RETENTION_MS;
    const oldest = this.sql
      .get<[string], { id: number; thread_id: string; depth: number; ts: number; users: string }>(
        'SELECT id, thread_id, depth, ts, users FROM ua_notified_events WHERE room_id = ? ORDER BY depth LIMIT 100',
      )
      .all(roomId);
    const reads = new Map<string, Map<string, number>>();
    const del = this.sql.get<[number]>('DELETE FROM ua_notified_events WHERE id = ?');
    for (const r of oldest) {
      if (r.ts >= cutoff) break;
      const allRead = Object.keys(JSON.parse(r.users) as Record<string, unknown>).every((u) => {
        let d = reads.get(u);
        if (!d) reads.set(u, (d = this.readDepths(u, roomId)));
        return r.depth <= Math.max(d.get(r.thread_id) ?? -Infinity, d.get(UNTHREADED) ?? -Infinity);
      });
      if (allRead) del.run(r.id);
    }
  }

  /** The position of the latest change of counts. */
  head(): number {
    return this.pos;
  }

  /** Rooms where the user's counts changed in (from, to]. A room changed again after `to`
   * shows up in the next range instead, with its counts as they are then. It scans the
   * user's rows (a few per room): an index on pos would cost a page per member per commit. */
  changedRooms(userId: string, from: number, to: number): string[] {
    return this.sql
      .get<[string, number, number], { room_id: string }>('SELECT DISTINCT room_id FROM ua_notification_counts WHERE user_id = ? AND pos > ? AND pos <= ?')
      .all(userId, from, to)
      .map((r) => r.room_id);
  }

  /** Unread counts per thread of the user in a room (threads with none left out). */
  counts(userId: string, roomId: string): Map<string, UnreadCounts> {
    const out = new Map<string, UnreadCounts>();
    for (const r of this.sql
      .get<[string, string], { thread_id: string; n: number; h: number }>(
        'SELECT thread_id, notifications AS n, highlights AS h FROM ua_notification_counts WHERE user_id = ? AND room_id = ? AND notifications > 0',
      )
      .all(userId, roomId)) {
      out.set(r.thread_id, { notification_count: r.n, highlight_count: r.h });
    }
    return out;
  }

  /** Unread notifications of the user in all rooms (the push badge). */
  unreadTotal(userId: string): number {
    return this.sql.get<[string], { n: number | null }>('SELECT SUM(notifications) AS n FROM ua_notification_counts WHERE user_id = ?').get(userId)?.n ?? 0;
  }

  /** A page of the user's notifications, newest first, below id `before`. It walks the
   * notifications of the rooms the user was ever notified in (which their counts list),
   * newest first, keeping the user's: GET /notifications is rare, every event is not. */
  page(userId: string, before: number, limit: number, onlyHighlight: boolean): NotificationRow[] {
    const out: NotificationRow[] = [];
    const reads = new Map<string, Map<string, number>>();
    const rows = this.sql
      .get<[string, number], { id: number; room_id: string; event_id: string; thread_id: string; depth: number; ts: number; users: string }>(
        `SELECT id, room_id, event_id, thread_id, depth, ts, users FROM ua_notified_events
         WHERE room_id IN (SELECT room_id FROM ua_notification_counts WHERE user_id = ?) AND id < ? ORDER BY id DESC`,
      )
      .iterate(userId, before);
    for (const r of rows) {
      const mine = notifiedIn(r.users, userId);
      if (!mine || (onlyHighlight && mine[0] !== 1)) continue;
      let d = reads.get(r.room_id);
      if (!d) reads.set(r.room_id, (d = this.readDepths(userId, r.room_id)));
      const read = r.depth <= Math.max(d.get(r.thread_id) ?? -Infinity, d.get(UNTHREADED) ?? -Infinity) ? 1 : 0;
      out.push({ id: r.id, user_id: userId, room_id: r.room_id, event_id: r.event_id, thread_id: r.thread_id, depth: r.depth, highlight: mine[0], actions: JSON.stringify(mine[1]), ts: r.ts, read });
      if (out.length >= limit) break;
    }
    return out;
  }

  // ---- pushers ----

  hasPushers(userId: string): boolean {
    return this.withPushers.has(userId);
  }

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
    this.withPushers.add(p.user_id);
  }

  deletePusher(userId: string, appId: string, pushkey: string): boolean {
    const deleted = this.sql.get('DELETE FROM ua_pushers WHERE user_id = ? AND app_id = ? AND pushkey = ?').run(userId, appId, pushkey).changes > 0;
    if (deleted) this.recheckPushers([userId]);
    return deleted;
  }

  /** Without `append`, a pusher replaces those of other users with the same app id and key. */
  deleteOthersPushers(userId: string, appId: string, pushkey: string): void {
    const users = this.sql.get<[string, string, string], { user_id: string }>('SELECT user_id FROM ua_pushers WHERE app_id = ? AND pushkey = ? AND user_id != ?').all(appId, pushkey, userId);
    this.sql.get('DELETE FROM ua_pushers WHERE app_id = ? AND pushkey = ? AND user_id != ?').run(appId, pushkey, userId);
    this.recheckPushers(users.map((u) => u.user_id));
  }

  private recheckPushers(userIds: string[]): void {
    for (const u of userIds) if (!this.sql.get<[string], { n: number }>('SELECT 1 AS n FROM ua_pushers WHERE user_id = ? LIMIT 1').get(u)) this.withPushers.delete(u);
  }
}
