import type { Db } from '../db/index.js';
import { getRoomVersion, redactEvent } from '../events/index.js';
import type { JsonObject, PDUJson } from '../events/types.js';
import { badJson } from '../http/errors.js';
import { createOffsetStore, type Consumer, type Log, type LogMessage, type OffsetStore } from '../log/index.js';
import type { Logger } from '../logger.js';
import { ROOM_OUTPUT_TOPIC, type RoomOutput, type RoomserverQueryAPI } from '../roomserver/api.js';
import {
  buildMatch,
  formatSearchToken,
  searchTokens,
  typeMatches,
  type RoomEventFilter,
  type RoomEventsCriteria,
  type SearchToken,
} from './query.js';
import { SEARCH_KEYS, SEARCH_MIGRATIONS, SearchStorage, type EventRow, type MatchQuery, type MatchRow, type SearchKey } from './storage.js';

export { searchEndpoints } from './routes.js';
export { parseSearchToken, searchBodySchema, type SearchBody, type RoomEventsCriteria } from './query.js';

export interface SearchApiDeps {
  db: Db;
  log: Log;
  logger: Logger;
  roomserver: RoomserverQueryAPI;
}

const CONSUMER = 'search.room';
const DEFAULT_LIMIT = 10;
const MAX_LIMIT = 100;
const DEFAULT_CONTEXT = 5;
const SCAN_BATCH = 100;

export interface SearchResult {
  rank: number;
  result: JsonObject;
  context?: JsonObject;
}

export interface RoomEventsResults {
  count: number;
  results: SearchResult[];
  highlights: string[];
  state?: Record<string, JsonObject[]>;
  groups?: Record<string, Record<string, { results: string[]; order: number; next_batch?: string }>>;
  next_batch?: string;
}

function clientEvent(eventId: string, roomId: string, pdu: PDUJson, unsigned: JsonObject = {}): JsonObject {
  const ev: JsonObject = { event_id: eventId, room_id: roomId, sender: pdu.sender, type: pdu.type, content: pdu.content, origin_server_ts: pdu.origin_server_ts, unsigned };
  if (pdu.state_key !== undefined) ev.state_key = pdu.state_key;
  if (typeof pdu.redacts === 'string') ev.redacts = pdu.redacts;
  return ev;
}

/** The text an event contributes to the index, if any. */
function indexedText(pdu: PDUJson): { key: SearchKey; text: string } | undefined {
  for (const [key, type] of Object.entries(SEARCH_KEYS) as Array<[SearchKey, string]>) {
    if (pdu.type !== type) continue;
    const field = key.slice('content.'.length);
    const v = pdu.content[field];
    // Only the current name and topic make sense as state; a message may not be state.
    if (type === 'm.room.message' ? pdu.state_key !== undefined : pdu.state_key !== '') return undefined;
    return typeof v === 'string' && v.length > 0 ? { key, text: v } : undefined;
  }
  return undefined;
}

function rowPasses(f: RoomEventFilter | undefined, row: EventRow, json: JsonObject): boolean {
  if (!f) return true;
  if (f.types && !f.types.some((p) => typeMatches(p, row.type))) return false;
  if (f.not_types?.some((p) => typeMatches(p, row.type))) return false;
  if (f.contains_url !== undefined) {
    const c = json.content as JsonObject | undefined;
    const has = typeof c?.url === 'string';
    if (has !== f.contains_url) return false;
  }
  return true;
}

/**
 * Server-side search (`POST /search`): an FTS5 index of message bodies, room names and
 * topics, fed from `room.output`, searched over the rooms the user is joined to and
 * checked against history visibility per result.
 */
export class SearchApi {
  readonly store: SearchStorage;
  private readonly offsets: OffsetStore;
  private readonly consumers: Consumer[] = [];

  constructor(private readonly deps: SearchApiDeps) {
    deps.db.migrate('search', SEARCH_MIGRATIONS);
    this.store = new SearchStorage(deps.db.raw);
    this.offsets = createOffsetStore(deps.db.raw, 'se_offsets');
    this.consumers.push(
      deps.log.consume<RoomOutput>(ROOM_OUTPUT_TOPIC, {
        name: 'search',
        // FTS5 writes a segment per commit and merges them as they pile up: a hundred events
        // per commit cost far less each than ten. Nobody searches for a message within 100 ms
        // of sending it (Dendrite's index, too, trails the room).
        lingerMs: 100,
        fromOffset: this.offsets.get(CONSUMER),
        handle: (msgs) => {
          this.offsets.commit(CONSUMER, msgs, (fresh) => this.apply(fresh));
        },
      }),
    );
  }

  async caughtUp(): Promise<void> {
    await Promise.all(this.consumers.map((c) => c.drained()));
  }

  async close(): Promise<void> {
    await Promise.all(this.consumers.splice(0).map((c) => c.close()));
  }

  /** Runs inside the offset store's transaction. */
  private apply(msgs: LogMessage<RoomOutput>[]): void {
    for (const m of msgs) {
      const o = m.value;
      if (o.type === 'new_room_event') this.addEvent(o.eventId, o.roomId, o.roomVersion, o.event);
      else if (o.type === 'redacted_event') this.redact(o.redactedEventId, o.redactionEventId);
    }
  }

  private addEvent(eventId: string, roomId: string, roomVersion: string, pdu: PDUJson): void {
    const json = clientEvent(eventId, roomId, pdu);
    const added = this.store.add(
      { event_id: eventId, room_id: roomId, sender: pdu.sender, type: pdu.type, room_version: roomVersion, json: JSON.stringify(json) },
      indexedText(pdu),
    );
    // A redaction that arrived before its target: apply it now.
    const redaction = added ? this.deps.roomserver.redactedBy(eventId) : undefined;
    if (redaction !== undefined) this.redact(eventId, redaction);
  }

  private redact(eventId: string, redactionId: string): void {
    const row = this.store.event(eventId);
    if (!row || row.redacted === 1) return;
    const version = getRoomVersion(row.room_version);
    if (!version) {
      this.deps.logger.error({ room_id: row.room_id, event_id: eventId }, 'search: unknown room version');
      return;
    }
    const ev = JSON.parse(row.json) as JsonObject;
    const pdu = { ...ev, content: (ev.content ?? {}) as JsonObject } as unknown as PDUJson;
    const redacted = redactEvent(pdu, version);
    const because = this.deps.roomserver.eventsByIds([redactionId])[0];
    const unsigned: JsonObject = because ? { redacted_because: clientEvent(because.eventId, because.roomId, because.json) } : {};
    this.store.redact(row.pos, JSON.stringify(clientEvent(eventId, row.room_id, { ...pdu, content: redacted.content }, unsigned)));
  }

  private render(row: EventRow, now: number): JsonObject {
    const ev = JSON.parse(row.json) as JsonObject;
    const unsigned = { ...((ev.unsigned as JsonObject | undefined) ?? {}) };
    if (typeof ev.origin_server_ts === 'number') unsigned.age = Math.max(0, now - ev.origin_server_ts);
    ev.unsigned = unsigned;
    return ev;
  }

  /** The room_events category of POST /search for `userId`. */
  searchRoomEvents(userId: string, c: RoomEventsCriteria, token: SearchToken | undefined): RoomEventsResults {
    const order = c.order_by ?? 'rank';
    if (token && token.o !== order) throw badJson('next_batch was issued for a different order_by');
    const f = c.filter;
    const tokens = searchTokens(c.search_term);
    let rooms = this.deps.roomserver.roomsForUser(userId, 'join');
    if (f?.rooms) rooms = rooms.filter((r) => f.rooms!.includes(r));
    if (f?.not_rooms) rooms = rooms.filter((r) => !f.not_rooms!.includes(r));
    if (token?.room !== undefined) rooms = rooms.filter((r) => r === token.room);
    let senders = f?.senders;
    if (token?.sender !== undefined) senders = (senders ?? [token.sender]).filter((s) => s === token.sender);
    const q: MatchQuery = {
      match: buildMatch(tokens),
      keys: c.keys && c.keys.length > 0 ? [...new Set(c.keys)] : (Object.keys(SEARCH_KEYS) as SearchKey[]),
      rooms,
      senders,
      notSenders: f?.not_senders,
      order,
      after: token ? { score: token.s, pos: token.p } : undefined,
    };
    const limit = Math.min(f?.limit ?? DEFAULT_LIMIT, MAX_LIMIT);
    const now = Date.now();
    const out: RoomEventsResults = { count: 0, results: [], highlights: tokens };
    if (tokens.length === 0) return out;
    out.count = this.store.count({ ...q, after: undefined });

    const found: MatchRow[] = [];
    let more = false;
    scan: for (;;) {
      const batch = this.store.matches(q, SCAN_BATCH);
      for (const row of batch) {
        q.after = { score: row.score, pos: row.pos };
        const json = JSON.parse(row.json) as JsonObject;
        if (!rowPasses(f, row, json) || !this.deps.roomserver.userMaySeeEvent(userId, row.event_id)) continue;
        if (found.length === limit) {
          more = true;
          break scan;
        }
        found.push(row);
      }
      if (batch.length < SCAN_BATCH) break;
    }

    const tokenAt = (row: MatchRow, group?: { room?: string; sender?: string }): string =>
      formatSearchToken({ o: order, s: row.score, p: row.pos, room: group?.room ?? token?.room, sender: group?.sender ?? token?.sender });
    const last = found.at(-1);
    if (more && last) out.next_batch = tokenAt(last);

    const ctx = c.event_context;
    out.results = found.map((row) => {
      const r: SearchResult = { rank: row.score, result: this.render(row, now) };
      if (ctx) r.context = this.context(userId, row, ctx.before_limit ?? DEFAULT_CONTEXT, ctx.after_limit ?? DEFAULT_CONTEXT, ctx.include_profile === true, now);
      return r;
    });

    if (c.include_state) {
      out.state = {};
      for (const roomId of new Set(found.map((r) => r.room_id))) {
        out.state[roomId] = this.deps.roomserver.currentState(roomId).map((e) => clientEvent(e.eventId, e.roomId, e.json));
      }
    }

    const groupBy = c.groupings?.group_by ?? [];
    if (groupBy.length > 0) {
      out.groups = {};
      for (const { key } of groupBy) {
        const groups: Record<string, { results: string[]; order: number; next_batch?: string }> = {};
        const lastOf = new Map<string, MatchRow>();
        for (const row of found) {
          const value = key === 'room_id' ? row.room_id : row.sender;
          const g = (groups[value] ??= { results: [], order: Object.keys(groups).length + 1 });
          g.results.push(row.event_id);
          lastOf.set(value, row);
        }
        // A group's own next_batch continues the same search restricted to that group.
        if (more) for (const [value, row] of lastOf) groups[value]!.next_batch = tokenAt(row, key === 'room_id' ? { room: value } : { sender: value });
        out.groups[key] = groups;
      }
    }
    return out;
  }

  private context(userId: string, row: EventRow, before: number, after: number, profile: boolean, now: number): JsonObject {
    const collect = (dir: 'before' | 'after', want: number): EventRow[] => {
      const rows: EventRow[] = [];
      let pos = row.pos;
      while (rows.length < want) {
        const batch = this.store.neighbours(row.room_id, pos, dir, SCAN_BATCH);
        for (const r of batch) {
          pos = r.pos;
          if (rows.length < want && this.deps.roomserver.userMaySeeEvent(userId, r.event_id)) rows.push(r);
        }
        if (batch.length < SCAN_BATCH) break;
      }
      return rows;
    };
    const evBefore = collect('before', before);
    const evAfter = collect('after', after);
    const out: JsonObject = {
      events_before: evBefore.map((r) => this.render(r, now)),
      events_after: evAfter.map((r) => this.render(r, now)),
    };
    if (profile) {
      // Profiles as they were when the result was sent: the senders' member events then.
      const state = this.deps.roomserver.stateBeforeEvent(row.event_id) ?? [];
      const info: JsonObject = {};
      for (const sender of new Set([row.sender, ...evBefore.map((r) => r.sender), ...evAfter.map((r) => r.sender)])) {
        const member = state.find((e) => e.type === 'm.room.member' && e.stateKey === sender);
        if (!member) continue;
        const p: JsonObject = {};
        if (typeof member.content.displayname === 'string') p.displayname = member.content.displayname;
        if (typeof member.content.avatar_url === 'string') p.avatar_url = member.content.avatar_url;
        info[sender] = p;
      }
      out.profile_info = info;
    }
    return out;
  }
}
