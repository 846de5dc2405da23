import type { JsonObject, RoomEvent } from '../events/types.js';
import type { Membership, RoomInfo, RoomserverQueryAPI } from './api.js';
import { EventStatus, type NidState, type RoomserverStorage, type StoredEvent } from './storage/index.js';

/** State types included in invite and knock stripped state (client-server spec). */
const STRIPPED_STATE_TYPES = [
  'm.room.create',
  'm.room.join_rules',
  'm.room.name',
  'm.room.avatar',
  'm.room.topic',
  'm.room.encryption',
  'm.room.canonical_alias',
];

function serverOf(userId: string): string {
  return userId.slice(userId.indexOf(':') + 1);
}

/** The room server's read side, over its own storage. */
export class RoomQueries implements RoomserverQueryAPI {
  constructor(protected readonly store: RoomserverStorage) {}

  roomInfo(roomId: string): RoomInfo | undefined {
    const room = this.store.roomView(roomId);
    if (!room || room.createEventNid === 0) return undefined;
    return { roomId, version: room.version.id, createEventId: this.store.eventIdOf(room.createEventNid) };
  }

  private current(roomId: string): NidState | undefined {
    const room = this.store.roomView(roomId);
    return room ? this.store.state.load(room.stateSnapshotNid) : undefined;
  }

  currentState(roomId: string): RoomEvent[] {
    const s = this.current(roomId);
    return s ? this.store.stateEvents(s) : [];
  }

  currentStateEvent(roomId: string, type: string, stateKey: string): RoomEvent | undefined {
    const s = this.current(roomId);
    return s ? this.store.stateEvent(s, type, stateKey) : undefined;
  }

  private stateAfter(ev: StoredEvent): NidState | undefined {
    if (ev.stateSnapshotNid === null) return undefined;
    const before = this.store.state.load(ev.stateSnapshotNid);
    if (ev.event.stateKey === undefined || ev.status !== EventStatus.Accepted) return before;
    const after = new Map(before);
    after.set(this.store.packedKey(ev.event.type, ev.event.stateKey, true)!, ev.nid);
    return after;
  }

  stateBeforeEvent(eventId: string): RoomEvent[] | undefined {
    const ev = this.store.event(eventId);
    if (!ev || ev.stateSnapshotNid === null) return undefined;
    return this.store.stateEvents(this.store.state.load(ev.stateSnapshotNid));
  }

  stateAfterEvent(eventId: string): RoomEvent[] | undefined {
    const ev = this.store.event(eventId);
    const s = ev && this.stateAfter(ev);
    return s ? this.store.stateEvents(s) : undefined;
  }

  membership(roomId: string, userId: string): { membership: Membership; eventId: string } | undefined {
    const room = this.store.roomView(roomId);
    const m = room && this.store.membership(room.roomNid, userId);
    return m ? { membership: m.membership, eventId: this.store.eventIdOf(m.eventNid) } : undefined;
  }

  isForgotten(roomId: string, userId: string): boolean {
    const room = this.store.roomView(roomId);
    return room !== undefined && this.store.forgotten(room.roomNid, userId);
  }

  joinedMembers(roomId: string): string[] {
    const room = this.store.roomView(roomId);
    return room ? this.store.members(room.roomNid, 'join') : [];
  }

  joinedServers(roomId: string): string[] {
    const room = this.store.roomView(roomId);
    return room ? [...this.store.joinedServers(room.roomNid)] : [];
  }

  eventsByIds(eventIds: string[]): RoomEvent[] {
    const out: RoomEvent[] = [];
    for (const id of eventIds) {
      const ev = this.store.event(id);
      if (ev && ev.status !== EventStatus.Rejected) out.push(ev.event);
    }
    return out;
  }

  /** Rejected events are included if referenced: they are part of the DAG peers ask for. */
  authChain(eventIds: string[]): RoomEvent[] {
    const seen = new Set<string>();
    const out: RoomEvent[] = [];
    const stack = eventIds.flatMap((id) => this.store.event(id)?.event.authEventIds ?? []);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      const ev = this.store.event(id);
      if (!ev) continue;
      out.push(ev.event);
      stack.push(...ev.event.authEventIds);
    }
    return out;
  }

  missingEvents(roomId: string, earliest: string[], latest: string[], limit: number, minDepth: number): RoomEvent[] {
    const stop = new Set(earliest);
    const seen = new Set<string>(latest);
    const queue = latest.flatMap((id) => this.store.event(id)?.event.prevEventIds ?? []);
    const out: RoomEvent[] = [];
    while (queue.length > 0 && out.length < limit) {
      const id = queue.shift()!;
      if (seen.has(id) || stop.has(id)) continue;
      seen.add(id);
      const ev = this.store.event(id);
      if (!ev || ev.event.roomId !== roomId || ev.event.depth < minDepth) continue;
      out.push(ev.event);
      queue.push(...ev.event.prevEventIds);
    }
    return out.sort((a, b) => a.depth - b.depth);
  }

  strippedState(roomId: string): JsonObject[] {
    const s = this.current(roomId);
    if (!s) return [];
    const out: JsonObject[] = [];
    for (const type of STRIPPED_STATE_TYPES) {
      const ev = this.store.stateEvent(s, type, '');
      if (ev) out.push({ type: ev.type, state_key: ev.stateKey ?? '', content: ev.content, sender: ev.sender });
    }
    return out;
  }

  serverMaySeeEvent(serverName: string, eventId: string): boolean {
    const ev = this.store.event(eventId);
    if (!ev) return false;
    const state = this.stateAfter(ev);
    if (!state) return false;
    const hv = this.store.stateEvent(state, 'm.room.history_visibility', '')?.content.history_visibility;
    const visibility = typeof hv === 'string' ? hv : 'shared';
    if (visibility === 'world_readable' || visibility === 'shared') return true;
    const allowed = visibility === 'invited' ? ['join', 'invite'] : ['join'];
    for (const member of this.store.stateEvents(state)) {
      if (member.type !== 'm.room.member' || member.stateKey === undefined) continue;
      if (serverOf(member.stateKey) === serverName && allowed.includes(String(member.content.membership))) return true;
    }
    return false;
  }

  redactedBy(eventId: string): string | undefined {
    return this.store.event(eventId)?.redactedBy ?? undefined;
  }

  userMaySeeEvent(userId: string, eventId: string): boolean {
    const ev = this.store.event(eventId);
    if (!ev || ev.status === EventStatus.Rejected) return false;
    const state = this.stateAfter(ev);
    if (!state) return false;
    const hv = this.store.stateEvent(state, 'm.room.history_visibility', '')?.content.history_visibility;
    const visibility = typeof hv === 'string' ? hv : 'shared';
    if (visibility === 'world_readable') return true;
    const atEvent = String(this.store.stateEvent(state, 'm.room.member', userId)?.content.membership ?? 'leave');
    if (atEvent === 'join') return true;
    if (visibility === 'invited' && atEvent === 'invite') return true;
    // shared: everything while the user is (still) joined, from before they joined too
    return visibility === 'shared' && this.membership(ev.event.roomId, userId)?.membership === 'join';
  }

  latestEvents(roomId: string): { eventIds: string[]; depth: number } {
    const room = this.store.roomView(roomId);
    if (!room) return { eventIds: [], depth: 0 };
    const evs = room.latestEventNids.map((n) => this.store.eventByNid(n).event);
    return { eventIds: evs.map((e) => e.eventId), depth: Math.max(0, ...evs.map((e) => e.depth)) + 1 };
  }

  roomsForUser(userId: string, membership: Membership): string[] {
    return this.store.roomsForUser(userId, membership);
  }

  visibleUsers(userId: string): Map<string, { displayname?: string; avatar_url?: string }> {
    const mine = new Set(this.store.roomsForUser(userId, 'join'));
    const out = new Map<string, { displayname?: string; avatar_url?: string }>();
    for (const roomId of this.store.roomIds()) {
      const open =
        mine.has(roomId) ||
        this.currentStateEvent(roomId, 'm.room.join_rules', '')?.content.join_rule === 'public' ||
        this.currentStateEvent(roomId, 'm.room.history_visibility', '')?.content.history_visibility === 'world_readable';
      if (!open) continue;
      for (const member of this.joinedMembers(roomId)) {
        if (out.has(member)) continue;
        const content = this.currentStateEvent(roomId, 'm.room.member', member)?.content ?? {};
        const p: { displayname?: string; avatar_url?: string } = {};
        if (typeof content.displayname === 'string') p.displayname = content.displayname;
        if (typeof content.avatar_url === 'string') p.avatar_url = content.avatar_url;
        out.set(member, p);
      }
    }
    return out;
  }
}
