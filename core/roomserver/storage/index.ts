import type Database from 'better-sqlite3';
import { toRoomEvent } from '../../events/event.js';
import { getRoomVersion, type RoomVersion } from '../../events/roomversions.js';
import type { PDUJson, RoomEvent } from '../../events/types.js';
import { LruCache } from '../../lru.js';
import type { Membership } from '../api.js';
import { StateStore, packKey, unpackKey, type NidState } from './state.js';

export { ROOMSERVER_MIGRATIONS } from './schema.js';
export { packKey, unpackKey, type NidState } from './state.js';

export const enum EventStatus {
  Accepted = 0,
  Rejected = 1,
  SoftFailed = 2,
}

export interface RoomRow {
  roomNid: number;
  roomId: string;
  version: RoomVersion;
  createEventNid: number;
  stateSnapshotNid: number;
  latestEventNids: number[];
  lastOutputOffset: number;
}

export interface StoredEvent {
  nid: number;
  event: RoomEvent;
  roomNid: number;
  /** State before the event; null for outliers. */
  stateSnapshotNid: number | null;
  status: EventStatus;
  isOutlier: boolean;
  reason: string | null;
  redactedBy: string | null;
}

interface EventRow {
  event_nid: number;
  room_nid: number;
  event_id: string;
  state_snapshot_nid: number | null;
  status: number;
  is_outlier: number;
  reason: string | null;
  redacted_by: string | null;
  json: string;
}

interface RoomDbRow {
  room_nid: number;
  room_id: string;
  room_version: string;
  create_event_nid: number;
  state_snapshot_nid: number;
  latest_event_nids: string;
  last_output_offset: number;
}

/** The room server's storage: rooms, events, numeric ids, state snapshots, membership,
 * aliases and the output table. Every write is meant to run inside one transaction per input. */
export class RoomserverStorage {
  readonly state: StateStore;
  private readonly typeNids = new Map<string, number>();
  private readonly typeNames = new Map<number, string>();
  private readonly keyNids = new LruCache<string, number>(65536);
  private readonly keyNames = new LruCache<number, string>(65536);
  private readonly events = new LruCache<string, StoredEvent>(16384);
  private readonly eventIdsByNid = new LruCache<number, string>(65536);
  private readonly rooms = new Map<string, RoomRow>();
  private readonly roomIdsByNid = new Map<number, string>();
  private readonly joined = new Map<number, readonly string[]>();
  /** The servers of the joined members, sorted: every event sent asks where it must go. */
  private readonly joinedServerLists = new Map<number, readonly string[]>();
  private readonly s;

  constructor(readonly db: Database.Database) {
    this.state = new StateStore(db);
    this.s = {
      typeNid: db.prepare<[string], { type_nid: number }>('SELECT type_nid FROM rs_event_types WHERE type = ?'),
      typeName: db.prepare<[number], { type: string }>('SELECT type FROM rs_event_types WHERE type_nid = ?'),
      insertType: db.prepare<[string]>('INSERT INTO rs_event_types (type) VALUES (?)'),
      keyNid: db.prepare<[string], { state_key_nid: number }>('SELECT state_key_nid FROM rs_state_keys WHERE state_key = ?'),
      keyName: db.prepare<[number], { state_key: string }>('SELECT state_key FROM rs_state_keys WHERE state_key_nid = ?'),
      insertKey: db.prepare<[string]>('INSERT INTO rs_state_keys (state_key) VALUES (?)'),
      roomById: db.prepare<[string], RoomDbRow>('SELECT * FROM rs_rooms WHERE room_id = ?'),
      roomByNid: db.prepare<[number], RoomDbRow>('SELECT * FROM rs_rooms WHERE room_nid = ?'),
      insertRoom: db.prepare<[string, string]>('INSERT INTO rs_rooms (room_id, room_version) VALUES (?, ?)'),
      updateRoom: db.prepare<[number, number, string, number, number]>(
        'UPDATE rs_rooms SET create_event_nid = ?, state_snapshot_nid = ?, latest_event_nids = ?, last_output_offset = ? WHERE room_nid = ?',
      ),
      eventById: db.prepare<[string], EventRow>('SELECT * FROM rs_events WHERE event_id = ?'),
      eventIdByNid: db.prepare<[number], { event_id: string }>('SELECT event_id FROM rs_events WHERE event_nid = ?'),
      insertEvent: db.prepare<[number, string, number, number | null, number, number | null, number, number, string | null, string]>(
        `INSERT INTO rs_events (room_nid, event_id, type_nid, state_key_nid, depth, state_snapshot_nid, status, is_outlier, reason, json)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      ),
      promoteOutlier: db.prepare<[number | null, number, string | null, number]>(
        'UPDATE rs_events SET state_snapshot_nid = ?, status = ?, reason = ?, is_outlier = 0 WHERE event_nid = ?',
      ),
      setRedactedBy: db.prepare<[string, number]>('UPDATE rs_events SET redacted_by = ? WHERE event_nid = ?'),
      insertPrev: db.prepare<[string, number]>('INSERT OR IGNORE INTO rs_prev_events (prev_event_id, event_nid) VALUES (?, ?)'),
      isReferenced: db.prepare<[string], { n: number }>('SELECT 1 AS n FROM rs_prev_events WHERE prev_event_id = ? LIMIT 1'),
      setMembership: db.prepare<[number, string, string, number]>(
        'INSERT INTO rs_membership (room_nid, user_id, membership, event_nid) VALUES (?, ?, ?, ?) ON CONFLICT (room_nid, user_id) DO UPDATE SET membership = excluded.membership, event_nid = excluded.event_nid, forgotten = 0',
      ),
      membership: db.prepare<[number, string], { membership: string; event_nid: number }>(
        'SELECT membership, event_nid FROM rs_membership WHERE room_nid = ? AND user_id = ?',
      ),
      forget: db.prepare<[number, string]>(
        "UPDATE rs_membership SET forgotten = 1 WHERE room_nid = ? AND user_id = ? AND membership IN ('leave', 'ban')",
      ),
      forgotten: db.prepare<[number, string], { forgotten: number }>('SELECT forgotten FROM rs_membership WHERE room_nid = ? AND user_id = ?'),
      members: db.prepare<[number, string], { user_id: string }>('SELECT user_id FROM rs_membership WHERE room_nid = ? AND membership = ? ORDER BY user_id'),
      roomIds: db.prepare<[], { room_id: string }>('SELECT room_id FROM rs_rooms WHERE create_event_nid != 0 ORDER BY room_id'),
      roomsForUser: db.prepare<[string, string], { room_id: string }>(
        'SELECT r.room_id FROM rs_membership m JOIN rs_rooms r ON r.room_nid = m.room_nid WHERE m.user_id = ? AND m.membership = ? ORDER BY r.room_id',
      ),
      insertOutput: db.prepare<[string, string]>('INSERT INTO rs_output (room_id, entry) VALUES (?, ?)'),
      outputAfter: db.prepare<[number, number], { offset: number; room_id: string; entry: string }>(
        'SELECT offset, room_id, entry FROM rs_output WHERE offset > ? ORDER BY offset LIMIT ?',
      ),
      outputHead: db.prepare<[], { head: number | null }>('SELECT MAX(offset) AS head FROM rs_output'),
      eventsByDepth: db.prepare<[number, number, number], { event_id: string }>(
        'SELECT event_id FROM rs_events WHERE room_nid = ? AND depth >= ? AND is_outlier = 0 ORDER BY depth DESC LIMIT ?',
      ),
    };
  }

  // ---- numeric ids -------------------------------------------------------------------

  typeNid(type: string, create: boolean): number | undefined {
    let nid = this.typeNids.get(type);
    if (nid !== undefined) return nid;
    nid = this.s.typeNid.get(type)?.type_nid;
    if (nid === undefined) {
      if (!create) return undefined;
      nid = Number(this.s.insertType.run(type).lastInsertRowid);
    }
    this.typeNids.set(type, nid);
    this.typeNames.set(nid, type);
    return nid;
  }

  typeName(nid: number): string {
    let name = this.typeNames.get(nid);
    if (name === undefined) {
      name = this.s.typeName.get(nid)?.type;
      if (name === undefined) throw new Error(`unknown type nid ${nid}`);
      this.typeNames.set(nid, name);
      this.typeNids.set(name, nid);
    }
    return name;
  }

  stateKeyNid(key: string, create: boolean): number | undefined {
    let nid = this.keyNids.get(key);
    if (nid !== undefined) return nid;
    nid = this.s.keyNid.get(key)?.state_key_nid;
    if (nid === undefined) {
      if (!create) return undefined;
      nid = Number(this.s.insertKey.run(key).lastInsertRowid);
    }
    this.keyNids.set(key, nid);
    this.keyNames.set(nid, key);
    return nid;
  }

  stateKeyName(nid: number): string {
    let name = this.keyNames.get(nid);
    if (name === undefined) {
      name = this.s.keyName.get(nid)?.state_key;
      if (name === undefined) throw new Error(`unknown state key nid ${nid}`);
      this.keyNames.set(nid, name);
    }
    return name;
  }

  /** The packed state key of a (type, state_key), or undefined if either was never seen. */
  packedKey(type: string, stateKey: string, create = false): number | undefined {
    const t = this.typeNid(type, create);
    const s = t === undefined ? undefined : this.stateKeyNid(stateKey, create);
    return t === undefined || s === undefined ? undefined : packKey(t, s);
  }

  // ---- rooms -------------------------------------------------------------------------

  private toRoom(r: RoomDbRow | undefined): RoomRow | undefined {
    if (!r) return undefined;
    const version = getRoomVersion(r.room_version);
    if (!version) throw new Error(`room ${r.room_id} has unknown version ${r.room_version}`);
    return {
      roomNid: r.room_nid,
      roomId: r.room_id,
      version,
      createEventNid: r.create_event_nid,
      stateSnapshotNid: r.state_snapshot_nid,
      latestEventNids: JSON.parse(r.latest_event_nids) as number[],
      lastOutputOffset: r.last_output_offset,
    };
  }

  /** Rows are read several times per event; callers get copies, since they edit them
   * before updateRoom. */
  private cacheRoom(r: RoomRow | undefined): RoomRow | undefined {
    if (!r) return undefined;
    if (this.rooms.size >= ROOM_CACHE_SIZE) {
      this.rooms.clear();
      this.roomIdsByNid.clear();
    }
    this.rooms.set(r.roomId, r);
    this.roomIdsByNid.set(r.roomNid, r.roomId);
    return copyRoom(r);
  }

  room(roomId: string): RoomRow | undefined {
    const cached = this.rooms.get(roomId);
    if (cached) return copyRoom(cached);
    return this.cacheRoom(this.toRoom(this.s.roomById.get(roomId)));
  }

  /** The cached row itself, for readers: no copy (rooms are read on every event). */
  roomView(roomId: string): Readonly<RoomRow> | undefined {
    return this.rooms.get(roomId) ?? this.room(roomId);
  }

  roomByNid(nid: number): RoomRow | undefined {
    const id = this.roomIdsByNid.get(nid);
    const cached = id === undefined ? undefined : this.rooms.get(id);
    if (cached) return copyRoom(cached);
    return this.cacheRoom(this.toRoom(this.s.roomByNid.get(nid)));
  }

  createRoom(roomId: string, version: RoomVersion): RoomRow {
    this.s.insertRoom.run(roomId, version.id);
    return this.room(roomId)!;
  }

  updateRoom(r: RoomRow): void {
    this.s.updateRoom.run(r.createEventNid, r.stateSnapshotNid, JSON.stringify(r.latestEventNids), r.lastOutputOffset, r.roomNid);
    // Rolled back with the transaction by resetCaches.
    this.cacheRoom(copyRoom(r));
  }

  // ---- events ------------------------------------------------------------------------

  private toStored(row: EventRow): StoredEvent {
    const room = this.roomByNid(row.room_nid);
    if (!room) throw new Error(`event ${row.event_id} in unknown room nid ${row.room_nid}`);
    const json = JSON.parse(row.json) as PDUJson;
    return {
      nid: row.event_nid,
      event: toRoomEvent(json, row.event_id, room.version, room.roomId),
      roomNid: row.room_nid,
      stateSnapshotNid: row.state_snapshot_nid,
      status: row.status as EventStatus,
      isOutlier: row.is_outlier === 1,
      reason: row.reason,
      redactedBy: row.redacted_by,
    };
  }

  event(eventId: string): StoredEvent | undefined {
    const cached = this.events.get(eventId);
    if (cached) return cached;
    const row = this.s.eventById.get(eventId);
    if (!row) return undefined;
    const stored = this.toStored(row);
    this.events.set(eventId, stored);
    this.eventIdsByNid.set(stored.nid, eventId);
    return stored;
  }

  eventIdOf(nid: number): string {
    let id = this.eventIdsByNid.get(nid);
    if (id === undefined) {
      id = this.s.eventIdByNid.get(nid)?.event_id;
      if (id === undefined) throw new Error(`unknown event nid ${nid}`);
      this.eventIdsByNid.set(nid, id);
    }
    return id;
  }

  eventByNid(nid: number): StoredEvent {
    return this.event(this.eventIdOf(nid))!;
  }

  insertEvent(
    roomNid: number,
    event: RoomEvent,
    stateSnapshotNid: number | null,
    status: EventStatus,
    isOutlier: boolean,
    reason: string | null,
  ): number {
    const typeNid = this.typeNid(event.type, true)!;
    const keyNid = event.stateKey === undefined ? null : this.stateKeyNid(event.stateKey, true)!;
    const nid = Number(
      this.s.insertEvent.run(roomNid, event.eventId, typeNid, keyNid, event.depth, stateSnapshotNid, status, isOutlier ? 1 : 0, reason, JSON.stringify(event.json))
        .lastInsertRowid,
    );
    // Only whether an event is referenced before it is stored live is ever asked (is it a
    // forward extremity?), so only references to events unknown or held as outliers now are
    // kept: a local send refers to stored events, and writes no entry in this random-keyed
    // index.
    for (const p of event.prevEventIds) {
      const prev = this.event(p);
      if (!prev || prev.isOutlier) this.s.insertPrev.run(p, nid);
    }
    // Cached as written (read back at once by the input pipeline); dropped on a rollback.
    this.events.set(event.eventId, { nid, event, roomNid, stateSnapshotNid, status, isOutlier, reason, redactedBy: null });
    this.eventIdsByNid.set(nid, event.eventId);
    return nid;
  }

  /** An outlier that is now input as a live or backfilled event gets its state and status. */
  promoteOutlier(nid: number, eventId: string, stateSnapshotNid: number | null, status: EventStatus, reason: string | null): void {
    this.s.promoteOutlier.run(stateSnapshotNid, status, reason, nid);
    this.events.delete(eventId);
  }

  setRedactedBy(nid: number, eventId: string, redactionId: string): void {
    this.s.setRedactedBy.run(redactionId, nid);
    this.events.delete(eventId);
  }

  isReferenced(eventId: string): boolean {
    return this.s.isReferenced.get(eventId) !== undefined;
  }

  /** Events of a room at or above a depth, deepest first (for missing-events walks). */
  eventIdsFromDepth(roomNid: number, minDepth: number, limit: number): string[] {
    return this.s.eventsByDepth.all(roomNid, minDepth, limit).map((r) => r.event_id);
  }

  // ---- state -------------------------------------------------------------------------

  /** A numeric state map as (type, state_key) → event id, in the StateMap form of state res. */
  stateKeyOf(packed: number): [string, string] {
    const [t, s] = unpackKey(packed);
    return [this.typeName(t), this.stateKeyName(s)];
  }

  stateEvents(state: NidState): RoomEvent[] {
    return [...state.values()].map((nid) => this.eventByNid(nid).event);
  }

  stateEvent(state: NidState, type: string, stateKey: string): RoomEvent | undefined {
    const k = this.packedKey(type, stateKey);
    const nid = k === undefined ? undefined : state.get(k);
    return nid === undefined ? undefined : this.eventByNid(nid).event;
  }

  // ---- membership --------------------------------------------------------------------

  setMembership(roomNid: number, userId: string, membership: string, eventNid: number): void {
    this.s.setMembership.run(roomNid, userId, membership, eventNid);
    this.joined.delete(roomNid);
    this.joinedServerLists.delete(roomNid);
  }

  /** Marks a left (or banned) membership forgotten; false if the user is not out of the room. */
  forget(roomNid: number, userId: string): boolean {
    return this.s.forget.run(roomNid, userId).changes > 0;
  }

  forgotten(roomNid: number, userId: string): boolean {
    return this.s.forgotten.get(roomNid, userId)?.forgotten === 1;
  }

  membership(roomNid: number, userId: string): { membership: Membership; eventNid: number } | undefined {
    const r = this.s.membership.get(roomNid, userId);
    return r ? { membership: r.membership as Membership, eventNid: r.event_nid } : undefined;
  }

  /** Members with a membership, sorted. Joined members are cached per room (copies handed
   * out): the consumers of every event ask for them. */
  members(roomNid: number, membership: Membership): string[] {
    if (membership !== 'join') return this.s.members.all(roomNid, membership).map((r) => r.user_id);
    let joined = this.joined.get(roomNid);
    if (!joined) {
      joined = this.s.members.all(roomNid, 'join').map((r) => r.user_id);
      if (this.joined.size >= ROOM_CACHE_SIZE) this.joined.clear();
      this.joined.set(roomNid, joined);
    }
    return [...joined];
  }

  /** The servers of a room's joined members, sorted (callers must not modify the list). */
  joinedServers(roomNid: number): readonly string[] {
    let servers = this.joinedServerLists.get(roomNid);
    if (!servers) {
      // A user id's server is what follows its first colon.
      servers = [...new Set(this.members(roomNid, 'join').map((u) => u.slice(u.indexOf(':') + 1)))].sort();
      if (this.joinedServerLists.size >= ROOM_CACHE_SIZE) this.joinedServerLists.clear();
      this.joinedServerLists.set(roomNid, servers);
    }
    return servers;
  }

  roomIds(): string[] {
    return this.s.roomIds.all().map((r) => r.room_id);
  }

  roomsForUser(userId: string, membership: Membership): string[] {
    return this.s.roomsForUser.all(userId, membership).map((r) => r.room_id);
  }

  // ---- output ------------------------------------------------------------------------

  /** Stores an output entry. An entry that carries a stored event (the same JSON) keeps only
   * its numeric id, `eventNid`, and gets the event back when read: the event is half an
   * entry's size, and it is in rs_events already. */
  insertOutput(roomId: string, entry: object): number {
    let json: string;
    const e = entry as { eventId?: unknown; event?: unknown };
    const stored = typeof e.eventId === 'string' ? this.events.get(e.eventId) : undefined;
    if (stored && e.event !== undefined && stored.event.json === e.event) json = JSON.stringify({ ...entry, event: undefined, eventNid: stored.nid });
    else json = JSON.stringify(entry);
    return Number(this.s.insertOutput.run(roomId, json).lastInsertRowid);
  }

  outputAfter(offset: number, limit: number): Array<{ offset: number; roomId: string; entry: unknown }> {
    return this.s.outputAfter.all(offset, limit).map((r) => {
      const entry = JSON.parse(r.entry) as { event?: unknown; eventNid?: number };
      if (entry.event === undefined && typeof entry.eventNid === 'number') {
        entry.event = this.eventByNid(entry.eventNid).event.json;
        delete entry.eventNid;
      }
      return { offset: r.offset, roomId: r.room_id, entry };
    });
  }

  outputHead(): number {
    return this.s.outputHead.get()?.head ?? 0;
  }

  /** After a rolled-back transaction, cached rows may describe writes that never happened. */
  resetCaches(): void {
    this.state.resetCaches();
    this.typeNids.clear();
    this.typeNames.clear();
    this.keyNids.clear();
    this.keyNames.clear();
    this.events.clear();
    this.eventIdsByNid.clear();
    this.rooms.clear();
    this.roomIdsByNid.clear();
    this.joined.clear();
    this.joinedServerLists.clear();
  }
}

const ROOM_CACHE_SIZE = 10_000;

function copyRoom(r: RoomRow): RoomRow {
  return { ...r, latestEventNids: [...r.latestEventNids] };
}
