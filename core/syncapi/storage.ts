import type Database from 'better-sqlite3';
import type { Migration } from '../db/index.js';
import type { JsonObject } from '../events/types.js';
import { LruCache } from '../lru.js';

/** The sync API's own tables, fed from `room.output` and `account-data`. */
export const SYNCAPI_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    up: (db) =>
      db.exec(`
        CREATE TABLE sy_events (
          pos INTEGER PRIMARY KEY AUTOINCREMENT,
          room_id TEXT NOT NULL,
          event_id TEXT NOT NULL UNIQUE,
          sender TEXT NOT NULL,
          type TEXT NOT NULL,
          state_key TEXT,
          json TEXT NOT NULL,
          depth INTEGER NOT NULL,
          room_version TEXT NOT NULL,
          -- 0: state we only learnt of through a state delta, or an old (backfilled / soft-failed) event
          in_timeline INTEGER NOT NULL,
          txn_device TEXT,
          txn_id TEXT
        );
        CREATE INDEX sy_events_room ON sy_events (room_id, pos);
        CREATE TABLE sy_state_deltas (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          room_id TEXT NOT NULL,
          pos INTEGER NOT NULL,
          type TEXT NOT NULL,
          state_key TEXT NOT NULL,
          event_id TEXT -- NULL: the key left the state
        );
        CREATE INDEX sy_state_deltas_room ON sy_state_deltas (room_id, type, state_key, pos);
        CREATE INDEX sy_state_deltas_pos ON sy_state_deltas (room_id, pos);
        CREATE TABLE sy_current_state (
          room_id TEXT NOT NULL,
          type TEXT NOT NULL,
          state_key TEXT NOT NULL,
          event_id TEXT NOT NULL,
          membership TEXT,
          pos INTEGER NOT NULL,
          PRIMARY KEY (room_id, type, state_key)
        );
        CREATE INDEX sy_current_state_member ON sy_current_state (room_id, membership) WHERE type = 'm.room.member';
        CREATE TABLE sy_memberships (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL,
          membership TEXT NOT NULL,
          pos INTEGER NOT NULL,
          event_id TEXT NOT NULL
        );
        CREATE INDEX sy_memberships_user ON sy_memberships (user_id, pos);
        CREATE INDEX sy_memberships_room ON sy_memberships (room_id, user_id, pos);
        CREATE TABLE sy_account_data (
          user_id TEXT NOT NULL,
          room_id TEXT NOT NULL, -- '' for global
          type TEXT NOT NULL,
          pos INTEGER NOT NULL,
          PRIMARY KEY (user_id, room_id, type)
        );
        CREATE INDEX sy_account_data_pos ON sy_account_data (user_id, pos);
        CREATE TABLE sy_relations (
          room_id TEXT NOT NULL,
          event_id TEXT NOT NULL PRIMARY KEY,
          rel_type TEXT NOT NULL,
          target_event_id TEXT NOT NULL,
          type TEXT NOT NULL,
          pos INTEGER NOT NULL
        );
        CREATE INDEX sy_relations_target ON sy_relations (room_id, target_event_id, pos);
      `),
  },
  {
    version: 2,
    up: (db) =>
      db.exec(`
        -- The current receipt per (room, user, type, thread), at the receipt stream position
        -- it last moved at.
        CREATE TABLE sy_receipts (
          room_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          type TEXT NOT NULL,
          thread_id TEXT NOT NULL, -- '' for unthreaded
          event_id TEXT NOT NULL,
          ts INTEGER NOT NULL,
          pos INTEGER NOT NULL,
          PRIMARY KEY (room_id, user_id, type, thread_id)
        );
        CREATE INDEX sy_receipts_pos ON sy_receipts (room_id, pos);
      `),
  },
];

export interface ReceiptRow {
  room_id: string;
  user_id: string;
  type: string;
  thread_id: string;
  event_id: string;
  ts: number;
  pos: number;
}

export interface EventRow {
  pos: number;
  room_id: string;
  event_id: string;
  sender: string;
  type: string;
  state_key: string | null;
  json: string;
  depth: number;
  room_version: string;
  in_timeline: number;
  txn_device: string | null;
  txn_id: string | null;
}

export interface MembershipRow {
  user_id: string;
  room_id: string;
  membership: string;
  pos: number;
  event_id: string;
}

export type StateMap = Map<string, string>; // "type\0state_key" → event id

export function keyOf(type: string, stateKey: string): string {
  return `${type}\u0000${stateKey}`;
}

/** Prepared statements over the sync tables. All reads are synchronous, so one request sees
 * one consistent snapshot within a tick. */
export class SyncStorage {
  private readonly s;
  /** membersWith, per room and membership. */
  private readonly members = new LruCache<string, Map<string, string[]>>(1024);

  constructor(readonly raw: Database.Database) {
    this.s = this.prepare();
  }

  private prepare() {
    return {
    maxPos: this.raw.prepare<[], { p: number | null }>('SELECT MAX(pos) AS p FROM sy_events'),
    maxAd: this.raw.prepare<[], { p: number | null }>('SELECT MAX(pos) AS p FROM sy_account_data'),
    eventById: this.raw.prepare<[string], EventRow>('SELECT * FROM sy_events WHERE event_id = ?'),
    insertEvent: this.raw.prepare(
      `INSERT INTO sy_events (room_id, event_id, sender, type, state_key, json, depth, room_version, in_timeline, txn_device, txn_id)
       VALUES (@room_id, @event_id, @sender, @type, @state_key, @json, @depth, @room_version, @in_timeline, @txn_device, @txn_id)`,
    ),
    promote: this.raw.prepare<[string | null, string | null, string]>(
      'UPDATE sy_events SET in_timeline = 1, txn_device = ?, txn_id = ? WHERE event_id = ?',
    ),
    setJson: this.raw.prepare<[string, string]>('UPDATE sy_events SET json = ? WHERE event_id = ?'),
    insertDelta: this.raw.prepare<[string, number, string, string, string | null]>(
      'INSERT INTO sy_state_deltas (room_id, pos, type, state_key, event_id) VALUES (?, ?, ?, ?, ?)',
    ),
    stateAt: this.raw.prepare<[string, number], { type: string; state_key: string; event_id: string | null; m: number }>(
      `SELECT type, state_key, event_id, MAX(id) AS m FROM sy_state_deltas WHERE room_id = ? AND pos <= ? GROUP BY type, state_key`,
    ),
    stateKeyHistory: this.raw.prepare<[string, string, string], { pos: number; event_id: string | null }>(
      'SELECT pos, event_id FROM sy_state_deltas WHERE room_id = ? AND type = ? AND state_key = ? ORDER BY id',
    ),
    stateChanged: this.raw.prepare<[string, number, number], { n: number }>(
      'SELECT COUNT(*) AS n FROM sy_state_deltas WHERE room_id = ? AND pos > ? AND pos <= ?',
    ),
    currentGet: this.raw.prepare<[string, string, string], { event_id: string }>(
      'SELECT event_id FROM sy_current_state WHERE room_id = ? AND type = ? AND state_key = ?',
    ),
    currentSet: this.raw.prepare(
      `INSERT INTO sy_current_state (room_id, type, state_key, event_id, membership, pos) VALUES (@room_id, @type, @state_key, @event_id, @membership, @pos)
       ON CONFLICT (room_id, type, state_key) DO UPDATE SET event_id = excluded.event_id, membership = excluded.membership, pos = excluded.pos`,
    ),
    currentDel: this.raw.prepare<[string, string, string]>('DELETE FROM sy_current_state WHERE room_id = ? AND type = ? AND state_key = ?'),
    membersWith: this.raw.prepare<[string, string], { state_key: string }>(
      `SELECT state_key FROM sy_current_state WHERE room_id = ? AND type = 'm.room.member' AND membership = ?`,
    ),
    insertMembership: this.raw.prepare('INSERT INTO sy_memberships (user_id, room_id, membership, pos, event_id) VALUES (@user_id, @room_id, @membership, @pos, @event_id)'),
    membershipsOf: this.raw.prepare<[string, number], MembershipRow>(
      'SELECT user_id, room_id, membership, pos, event_id FROM sy_memberships WHERE user_id = ? AND pos <= ? ORDER BY id',
    ),
    membershipHistory: this.raw.prepare<[string, string], MembershipRow>(
      'SELECT user_id, room_id, membership, pos, event_id FROM sy_memberships WHERE room_id = ? AND user_id = ? ORDER BY id',
    ),
    eventsDesc: this.raw.prepare<[string, number, number, number], EventRow>(
      'SELECT * FROM sy_events WHERE room_id = ? AND in_timeline = 1 AND pos <= ? AND pos > ? ORDER BY pos DESC LIMIT ?',
    ),
    eventsAsc: this.raw.prepare<[string, number, number, number], EventRow>(
      'SELECT * FROM sy_events WHERE room_id = ? AND in_timeline = 1 AND pos > ? AND pos <= ? ORDER BY pos ASC LIMIT ?',
    ),
    setAccountData: this.raw.prepare<[string, string, string, number]>(
      `INSERT INTO sy_account_data (user_id, room_id, type, pos) VALUES (?, ?, ?, ?)
       ON CONFLICT (user_id, room_id, type) DO UPDATE SET pos = excluded.pos`,
    ),
    accountDataSince: this.raw.prepare<[string, number, number], { room_id: string; type: string; pos: number }>(
      'SELECT room_id, type, pos FROM sy_account_data WHERE user_id = ? AND pos > ? AND pos <= ? ORDER BY pos',
    ),
    insertRelation: this.raw.prepare(
      `INSERT OR IGNORE INTO sy_relations (room_id, event_id, rel_type, target_event_id, type, pos) VALUES (@room_id, @event_id, @rel_type, @target_event_id, @type, @pos)`,
    ),
    deleteRelation: this.raw.prepare<[string]>('DELETE FROM sy_relations WHERE event_id = ?'),
    maxReceipt: this.raw.prepare<[], { p: number | null }>('SELECT MAX(pos) AS p FROM sy_receipts'),
    setReceipt: this.raw.prepare(
      `INSERT INTO sy_receipts (room_id, user_id, type, thread_id, event_id, ts, pos) VALUES (@room_id, @user_id, @type, @thread_id, @event_id, @ts, @pos)
       ON CONFLICT (room_id, user_id, type, thread_id) DO UPDATE SET event_id = excluded.event_id, ts = excluded.ts, pos = excluded.pos`,
    ),
    receiptsBetween: this.raw.prepare<[string, number, number], ReceiptRow>(
      'SELECT * FROM sy_receipts WHERE room_id = ? AND pos > ? AND pos <= ? ORDER BY pos',
    ),
    };
  }

  maxPos(): number {
    return this.s.maxPos.get()?.p ?? 0;
  }
  maxAccountDataPos(): number {
    return this.s.maxAd.get()?.p ?? 0;
  }
  event(eventId: string): EventRow | undefined {
    return this.s.eventById.get(eventId);
  }
  /** Backfilled history: placed below every position the room's readers have seen, each
   * batch newest first, so that walking positions down walks history back. */
  insertHistoricEvent(row: Omit<EventRow, 'pos'>): number {
    const min = (this.raw.prepare('SELECT MIN(pos) AS m FROM sy_events').get() as { m: number | null }).m ?? 0;
    const pos = Math.min(min, 0) - 1;
    this.raw
      .prepare(
        `INSERT INTO sy_events (pos, room_id, event_id, sender, type, state_key, json, depth, room_version, in_timeline, txn_device, txn_id)
         VALUES (@pos, @room_id, @event_id, @sender, @type, @state_key, @json, @depth, @room_version, @in_timeline, @txn_device, @txn_id)`,
      )
      .run({ ...row, pos });
    return pos;
  }

  /** The room's earliest timeline event (where backfill continues from). */
  earliestTimelineEvent(roomId: string): EventRow | undefined {
    return this.raw.prepare('SELECT * FROM sy_events WHERE room_id = ? AND in_timeline = 1 ORDER BY pos ASC LIMIT 1').get(roomId) as EventRow | undefined;
  }

  insertEvent(row: Omit<EventRow, 'pos'>): number {
    return Number(this.s.insertEvent.run(row).lastInsertRowid);
  }
  promoteToTimeline(eventId: string, txnDevice: string | null, txnId: string | null): void {
    this.s.promote.run(txnDevice, txnId, eventId);
  }
  setJson(eventId: string, json: JsonObject): void {
    this.s.setJson.run(JSON.stringify(json), eventId);
  }
  insertDelta(roomId: string, pos: number, type: string, stateKey: string, eventId: string | null): void {
    this.s.insertDelta.run(roomId, pos, type, stateKey, eventId);
  }
  /** The room's state just after stream position `pos`. */
  stateAt(roomId: string, pos: number): StateMap {
    const m: StateMap = new Map();
    for (const r of this.s.stateAt.all(roomId, pos)) if (r.event_id !== null) m.set(keyOf(r.type, r.state_key), r.event_id);
    return m;
  }
  stateKeyHistory(roomId: string, type: string, stateKey: string): Array<{ pos: number; event_id: string | null }> {
    return this.s.stateKeyHistory.all(roomId, type, stateKey);
  }
  stateChangedBetween(roomId: string, from: number, to: number): boolean {
    return (this.s.stateChanged.get(roomId, from, to)?.n ?? 0) > 0;
  }
  currentStateEventId(roomId: string, type: string, stateKey: string): string | undefined {
    return this.s.currentGet.get(roomId, type, stateKey)?.event_id;
  }
  setCurrent(roomId: string, type: string, stateKey: string, eventId: string, membership: string | null, pos: number): void {
    this.s.currentSet.run({ room_id: roomId, type, state_key: stateKey, event_id: eventId, membership, pos });
    if (type === 'm.room.member') this.members.delete(roomId);
  }
  deleteCurrent(roomId: string, type: string, stateKey: string): void {
    this.s.currentDel.run(roomId, type, stateKey);
    if (type === 'm.room.member') this.members.delete(roomId);
  }
  /** Current members of a room with a membership (callers must not modify the list). Every
   * new event of a room asks who to wake: kept per room until its membership changes. */
  membersWith(roomId: string, membership: string): readonly string[] {
    let byMembership = this.members.get(roomId);
    if (!byMembership) this.members.set(roomId, (byMembership = new Map()));
    let list = byMembership.get(membership);
    if (!list) byMembership.set(membership, (list = this.s.membersWith.all(roomId, membership).map((r) => r.state_key)));
    return list;
  }
  /** Forgets cached reads, after a rolled-back transaction. */
  resetCaches(): void {
    this.members.clear();
  }
  insertMembership(r: MembershipRow): void {
    this.s.insertMembership.run(r);
  }
  /** Every membership change of the user up to `pos`, oldest first. */
  membershipsOf(userId: string, pos: number): MembershipRow[] {
    return this.s.membershipsOf.all(userId, pos);
  }
  membershipHistory(roomId: string, userId: string): MembershipRow[] {
    return this.s.membershipHistory.all(roomId, userId);
  }
  /** Timeline events of a room with after < pos <= upTo, newest first. */
  eventsDesc(roomId: string, upTo: number, after: number, limit: number): EventRow[] {
    return this.s.eventsDesc.all(roomId, upTo, after, limit);
  }
  /** Timeline events of a room with after < pos <= upTo, oldest first. */
  eventsAsc(roomId: string, after: number, upTo: number, limit: number): EventRow[] {
    return this.s.eventsAsc.all(roomId, after, upTo, limit);
  }
  setAccountData(userId: string, roomId: string, type: string, pos: number): void {
    this.s.setAccountData.run(userId, roomId, type, pos);
  }
  accountDataBetween(userId: string, after: number, upTo: number): Array<{ room_id: string; type: string; pos: number }> {
    return this.s.accountDataSince.all(userId, after, upTo);
  }
  insertRelation(r: { room_id: string; event_id: string; rel_type: string; target_event_id: string; type: string; pos: number }): void {
    this.s.insertRelation.run(r);
  }
  deleteRelation(eventId: string): void {
    this.s.deleteRelation.run(eventId);
  }
  maxReceiptPos(): number {
    return this.s.maxReceipt.get()?.p ?? 0;
  }
  setReceipt(r: ReceiptRow): void {
    this.s.setReceipt.run(r);
  }
  /** Current receipts of a room that moved in (after, upTo]. */
  receiptsBetween(roomId: string, after: number, upTo: number): ReceiptRow[] {
    return this.s.receiptsBetween.all(roomId, after, upTo);
  }
  /** Relations to `target`, filtered by rel type and event type, in the given direction. */
  /** What bundled aggregations need of an event's children: thread replies (count, newest
   * position) and the newest edit by the event's own sender. Empty for most events. */
  aggregations(roomId: string, eventId: string, sender: string): { thread?: { count: number; latest: number }; edit?: EventRow } {
    const out: { thread?: { count: number; latest: number }; edit?: EventRow } = {};
    for (const r of this.raw
      .prepare<[string, string], { rel_type: string; count: number; latest: number }>(
        `SELECT rel_type, COUNT(*) AS count, MAX(pos) AS latest FROM sy_relations
         WHERE room_id = ? AND target_event_id = ? AND rel_type IN ('m.thread', 'm.replace') GROUP BY rel_type`,
      )
      .all(roomId, eventId)) {
      if (r.rel_type === 'm.thread') out.thread = { count: r.count, latest: r.latest };
      else
        out.edit = this.raw
          .prepare<[string, string, string], EventRow>(
            `SELECT e.* FROM sy_relations r JOIN sy_events e ON e.event_id = r.event_id
             WHERE r.room_id = ? AND r.target_event_id = ? AND r.rel_type = 'm.replace' AND e.sender = ? ORDER BY e.pos DESC LIMIT 1`,
          )
          .get(roomId, eventId, sender);
    }
    return out;
  }

  /** Timeline events of a room from `ts` on (dir f) or back from it (dir b), nearest first.
   * It reads the timestamps out of the stored JSON: jumping to a date is rare enough not to
   * index every event by time. */
  eventsByTime(roomId: string, ts: number, dir: 'f' | 'b', limit: number): EventRow[] {
    const sql =
      dir === 'f'
        ? `SELECT * FROM sy_events WHERE room_id = ? AND in_timeline = 1 AND json_extract(json, '$.origin_server_ts') >= ?
           ORDER BY json_extract(json, '$.origin_server_ts') ASC, pos ASC LIMIT ?`
        : `SELECT * FROM sy_events WHERE room_id = ? AND in_timeline = 1 AND json_extract(json, '$.origin_server_ts') <= ?
           ORDER BY json_extract(json, '$.origin_server_ts') DESC, pos DESC LIMIT ?`;
    return this.raw.prepare<[string, number, number], EventRow>(sql).all(roomId, ts, limit);
  }

  eventAt(pos: number): EventRow | undefined {
    return this.raw.prepare<[number], EventRow>('SELECT * FROM sy_events WHERE pos = ?').get(pos);
  }

  /** Thread roots of a room with their newest reply at or below `maxPos`, newest first:
   * the root, the position of its latest reply and the number of replies. */
  threadRoots(roomId: string, maxPos: number, limit: number): Array<{ root: string; latest: number; count: number }> {
    return this.raw
      .prepare<[string, number, number], { root: string; latest: number; count: number }>(
        `SELECT target_event_id AS root, MAX(pos) AS latest, COUNT(*) AS count FROM sy_relations
         WHERE room_id = ? AND rel_type = 'm.thread' GROUP BY target_event_id HAVING MAX(pos) <= ? ORDER BY latest DESC LIMIT ?`,
      )
      .all(roomId, maxPos, limit);
  }

  /** Whether the user sent a reply in the thread. */
  repliedInThread(roomId: string, root: string, userId: string): boolean {
    return (
      this.raw
        .prepare<[string, string, string], { one: number }>(
          `SELECT 1 AS one FROM sy_relations r JOIN sy_events e ON e.event_id = r.event_id
           WHERE r.room_id = ? AND r.target_event_id = ? AND r.rel_type = 'm.thread' AND e.sender = ? LIMIT 1`,
        )
        .get(roomId, root, userId) !== undefined
    );
  }

  relations(roomId: string, target: string, relType: string | undefined, eventType: string | undefined, dir: 'b' | 'f', from: number, to: number, limit: number): EventRow[] {
    const where = ['r.room_id = ?', 'r.target_event_id = ?'];
    const args: Array<string | number> = [roomId, target];
    if (relType !== undefined) (where.push('r.rel_type = ?'), args.push(relType));
    if (eventType !== undefined) (where.push('r.type = ?'), args.push(eventType));
    if (dir === 'b') where.push('e.pos <= ?', 'e.pos > ?');
    else where.push('e.pos > ?', 'e.pos <= ?');
    args.push(from, to, limit);
    return this.raw
      .prepare<Array<string | number>, EventRow>(
        `SELECT e.* FROM sy_relations r JOIN sy_events e ON e.event_id = r.event_id WHERE ${where.join(' AND ')} ORDER BY e.pos ${dir === 'b' ? 'DESC' : 'ASC'} LIMIT ?`,
      )
      .all(...args);
  }
}
