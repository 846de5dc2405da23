import type { Logger } from '../logger.js';
import { redactEvent, getRoomVersion } from '../events/index.js';
import type { JsonObject, PDUJson, RoomEvent } from '../events/types.js';
import type { RoomOutput, RoomserverQueryAPI } from '../roomserver/api.js';
import type { AccountDataOutput } from '../userapi/api.js';
import type { ReceiptOutput } from '../receipts/api.js';
import type { LogMessage } from '../log/index.js';
import { keyOf, type EventRow, type SyncStorage } from './storage.js';

/** The client format of an event as stored: unsigned holds only what does not depend on the
 * reader (prev_content, replaces_state, redacted_because); age and transaction_id are added
 * when it is served. */
export function clientEventOf(eventId: string, roomId: string, pdu: PDUJson): JsonObject {
  const ev: JsonObject = {
    event_id: eventId,
    room_id: roomId,
    sender: pdu.sender,
    type: pdu.type,
    content: pdu.content,
    origin_server_ts: pdu.origin_server_ts,
    unsigned: {},
  };
  if (pdu.state_key !== undefined) ev.state_key = pdu.state_key;
  if (typeof pdu.redacts === 'string') ev.redacts = pdu.redacts;
  return ev;
}

function rowOf(ev: RoomEvent, json: JsonObject, inTimeline: boolean, txn?: { deviceId: string; txnId: string }): Omit<EventRow, 'pos'> {
  return {
    room_id: ev.roomId,
    event_id: ev.eventId,
    sender: ev.sender,
    type: ev.type,
    state_key: ev.stateKey ?? null,
    json: JSON.stringify(json),
    depth: ev.depth,
    room_version: ev.version.id,
    in_timeline: inTimeline ? 1 : 0,
    txn_device: txn?.deviceId ?? null,
    txn_id: txn?.txnId ?? null,
  };
}

function isObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Applies `room.output` and `account-data` entries to the sync tables. Runs inside the
 * offset store's transaction; returns the users to wake once it commits. */
export class SyncIngest {
  constructor(
    private readonly store: SyncStorage,
    private readonly roomserver: RoomserverQueryAPI,
    private readonly logger: Logger,
  ) {}

  applyRoomOutputs(msgs: LogMessage<RoomOutput>[], wake: Set<string>): void {
    for (const m of msgs) {
      const o = m.value;
      if (o.type === 'new_room_event') this.newEvent(o, wake);
      else if (o.type === 'old_room_event') this.oldEvent(o);
      else if (o.type === 'redacted_event') this.redacted(o, wake);
      else this.outOfRoomMembership(o, wake);
    }
  }

  applyAccountData(msgs: LogMessage<AccountDataOutput>[], wake: Set<string>): void {
    let pos = this.store.maxAccountDataPos();
    for (const m of msgs) {
      const a = m.value;
      this.store.setAccountData(a.userId, a.roomId ?? '', a.type, ++pos);
      wake.add(a.userId);
    }
  }

  /** Receipts: the current one per (room, user, type, thread) at a new receipt position.
   * Private receipts wake only their owner. */
  applyReceipts(msgs: LogMessage<ReceiptOutput>[], wake: Set<string>): void {
    let pos = this.store.maxReceiptPos();
    for (const m of msgs) {
      const r = m.value;
      this.store.setReceipt({ room_id: r.roomId, user_id: r.userId, type: r.type, thread_id: r.threadId ?? '', event_id: r.eventId, ts: r.ts, pos: ++pos });
      if (r.type === 'm.read.private') wake.add(r.userId);
      else for (const u of this.store.membersWith(r.roomId, 'join')) wake.add(u);
    }
  }

  /** Events the room server knows, for state deltas naming events we never saw. */
  private fetch(ids: string[]): Map<string, RoomEvent> {
    const missing = ids.filter((id) => !this.store.event(id));
    const out = new Map<string, RoomEvent>();
    if (missing.length > 0) for (const ev of this.roomserver.eventsByIds(missing)) out.set(ev.eventId, ev);
    return out;
  }

  private stateEventRow(id: string, fetched: Map<string, RoomEvent>): EventRow | undefined {
    const have = this.store.event(id);
    if (have) return have;
    const ev = fetched.get(id);
    if (!ev || ev.stateKey === undefined) return undefined;
    const pos = this.store.insertEvent(rowOf(ev, clientEventOf(ev.eventId, ev.roomId, ev.json), false));
    return this.store.event(ev.eventId) ?? { ...rowOf(ev, {}, false), pos };
  }

  private newEvent(o: Extract<RoomOutput, { type: 'new_room_event' }>, wake: Set<string>): void {
    const version = getRoomVersion(o.roomVersion);
    if (!version) {
      this.logger.error({ room_id: o.roomId, event_id: o.eventId }, 'sync: unknown room version in output');
      return;
    }
    const existing = this.store.event(o.eventId);
    if (existing?.in_timeline === 1) return;
    const json = existing ? (JSON.parse(existing.json) as JsonObject) : clientEventOf(o.eventId, o.roomId, o.event);
    const unsigned: JsonObject = isObject(json.unsigned) ? json.unsigned : {};
    if (o.event.state_key !== undefined) {
      const prevId = this.store.currentStateEventId(o.roomId, o.event.type, o.event.state_key);
      const prev = prevId !== undefined && prevId !== o.eventId ? this.store.event(prevId) : undefined;
      if (prev) {
        const p = JSON.parse(prev.json) as JsonObject;
        unsigned.prev_content = p.content ?? {};
        unsigned.prev_sender = prev.sender;
        unsigned.replaces_state = prev.event_id;
      }
    }
    json.unsigned = unsigned;
    // State we never saw arriving with this event (a join's whole state over federation, a
    // state reset) is placed before it, so it is the state at the start of the timeline.
    const earlier = this.fetch(o.addsStateEventIds.filter((id) => id !== o.eventId));
    for (const id of o.addsStateEventIds) {
      if (id === o.eventId || !earlier.has(id) || this.store.event(id)) continue;
      const row = this.stateEventRow(id, earlier);
      if (!row || row.state_key === null) continue;
      this.applyStateRow(o.roomId, row, row.pos, wake);
    }
    // An event first seen as state gets a new position now that it enters the timeline.
    if (existing) this.store.raw.prepare('DELETE FROM sy_events WHERE event_id = ?').run(o.eventId);
    const pos = this.store.insertEvent({
      room_id: o.roomId,
      event_id: o.eventId,
      sender: o.event.sender,
      type: o.event.type,
      state_key: o.event.state_key ?? null,
      json: JSON.stringify(json),
      depth: o.event.depth,
      room_version: o.roomVersion,
      in_timeline: 1,
      txn_device: o.transaction?.deviceId ?? null,
      txn_id: o.transaction?.txnId ?? null,
    });

    const fetched = this.fetch([...o.addsStateEventIds, ...o.removesStateEventIds]);
    const added = new Set<string>();
    const adds: EventRow[] = [];
    for (const id of o.addsStateEventIds) {
      const row = this.stateEventRow(id, fetched);
      if (!row || row.state_key === null) {
        this.logger.warn({ room_id: o.roomId, event_id: id }, 'sync: state delta names an unknown event');
        continue;
      }
      adds.push(row);
      added.add(keyOf(row.type, row.state_key));
    }
    for (const id of o.removesStateEventIds) {
      const row = this.stateEventRow(id, fetched);
      if (!row || row.state_key === null || added.has(keyOf(row.type, row.state_key))) continue;
      this.store.insertDelta(o.roomId, pos, row.type, row.state_key, null);
      this.store.deleteCurrent(o.roomId, row.type, row.state_key);
      if (row.type === 'm.room.member') {
        this.store.insertMembership({ user_id: row.state_key, room_id: o.roomId, membership: 'leave', pos, event_id: row.event_id });
        wake.add(row.state_key);
      }
    }
    for (const row of adds) {
      if (this.store.currentStateEventId(o.roomId, row.type, row.state_key!) === row.event_id && row.event_id !== o.eventId) continue;
      this.applyStateRow(o.roomId, row, pos, wake);
    }

    const rel = o.event.content['m.relates_to'];
    if (isObject(rel) && typeof rel.rel_type === 'string' && typeof rel.event_id === 'string') {
      this.store.insertRelation({ room_id: o.roomId, event_id: o.eventId, rel_type: rel.rel_type, target_event_id: rel.event_id, type: o.event.type, pos });
    }
    for (const u of this.store.membersWith(o.roomId, 'join')) wake.add(u);
  }

  /** An invite to (or a rejected invite of) a room this server is not in: only the user's
   * membership changes; the invite keeps the room's stripped state for the invite section. */
  private outOfRoomMembership(o: Extract<RoomOutput, { type: 'new_invite_event' | 'retire_invite_event' }>, wake: Set<string>): void {
    if (this.store.event(o.eventId) || o.event.state_key === undefined) return;
    const json = clientEventOf(o.eventId, o.roomId, o.event);
    const stripped = (o.event.unsigned as JsonObject | undefined)?.invite_room_state;
    if (Array.isArray(stripped)) json.unsigned = { invite_room_state: stripped };
    const m = o.event.content.membership;
    const pos = this.store.insertEvent({
      room_id: o.roomId,
      event_id: o.eventId,
      sender: o.event.sender,
      type: o.event.type,
      state_key: o.event.state_key,
      json: JSON.stringify(json),
      depth: o.event.depth,
      room_version: o.roomVersion,
      in_timeline: 0,
      txn_device: null,
      txn_id: null,
    });
    this.store.insertMembership({ user_id: o.event.state_key, room_id: o.roomId, membership: typeof m === 'string' ? m : 'leave', pos, event_id: o.eventId });
    wake.add(o.event.state_key);
  }

  /** Records a state event as the room's current state from position `pos`. */
  private applyStateRow(roomId: string, row: EventRow, pos: number, wake: Set<string>): void {
    const sk = row.state_key!;
    let membership: string | null = null;
    if (row.type === 'm.room.member') {
      const c = (JSON.parse(row.json) as JsonObject).content;
      const m = isObject(c) ? c.membership : undefined;
      membership = typeof m === 'string' ? m : 'leave';
      this.store.insertMembership({ user_id: sk, room_id: roomId, membership, pos, event_id: row.event_id });
      wake.add(sk);
    }
    this.store.insertDelta(roomId, pos, row.type, sk, row.event_id);
    this.store.setCurrent(roomId, row.type, sk, row.event_id, membership, pos);
  }

  private oldEvent(o: Extract<RoomOutput, { type: 'old_room_event' }>): void {
    const existing = this.store.event(o.eventId);
    if (existing?.in_timeline === 1) return;
    // A state event first seen in a join's state now takes its place in the history.
    if (existing) this.store.raw.prepare('DELETE FROM sy_events WHERE event_id = ?').run(o.eventId);
    this.store.insertHistoricEvent({
      room_id: o.roomId,
      event_id: o.eventId,
      sender: o.event.sender,
      type: o.event.type,
      state_key: o.event.state_key ?? null,
      json: JSON.stringify(clientEventOf(o.eventId, o.roomId, o.event)),
      depth: o.event.depth,
      room_version: o.roomVersion,
      in_timeline: 1,
      txn_device: null,
      txn_id: null,
    });
  }

  private redacted(o: Extract<RoomOutput, { type: 'redacted_event' }>, wake: Set<string>): void {
    const target = this.store.event(o.redactedEventId);
    if (!target) return;
    const version = getRoomVersion(target.room_version);
    if (!version) return;
    const json = JSON.parse(target.json) as JsonObject;
    const redaction = this.store.event(o.redactionEventId);
    const because = redaction ? (JSON.parse(redaction.json) as JsonObject) : undefined;
    const pseudo = { type: target.type, content: isObject(json.content) ? json.content : {} } as unknown as PDUJson;
    json.content = redactEvent(pseudo, version).content;
    const unsigned: JsonObject = isObject(json.unsigned) ? json.unsigned : {};
    if (because) {
      const b = { ...because };
      delete b.unsigned;
      unsigned.redacted_because = b;
    }
    json.unsigned = unsigned;
    this.store.setJson(target.event_id, json);
    this.store.deleteRelation(target.event_id);
    for (const u of this.store.membersWith(o.roomId, 'join')) wake.add(u);
  }
}
