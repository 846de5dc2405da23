import { toRoomEvent } from '../../events/event.js';
import { getRoomVersion, type RoomVersion } from '../../events/roomversions.js';
import { stateKey, type EventRef, type JsonObject, type PDUJson, type RoomEvent, type Signatures } from '../../events/types.js';
import { domainOf } from './ids.js';
import type { AuthState } from './types.js';

/** Test users: alice creates rooms; bob is an ordinary member; mod and mod2 are moderators (50). */
export const ALICE = '@alice:a.example';
export const BOB = '@bob:b.example';
export const MOD = '@mod:b.example';
export const MOD2 = '@mod2:m.example';
export const CAROL = '@carol:c.example';
export const DAVE = '@dave:d.example';

/** A partial event description; the fixture fills in the rest. */
export interface EventSpec {
  type: string;
  sender: string;
  stateKey?: string;
  content?: JsonObject;
  /** Defaults to the last event added to the room. */
  prevEvents?: string[];
  authEvents?: string[];
  /** Top-level in v1–10, in content from v11 (as the version's format puts it). */
  redacts?: string;
  eventId?: string;
  /** Overrides the room's id; `null` leaves `room_id` out of the JSON. */
  roomId?: string | null;
  signatures?: Signatures;
}

export function version(id: string): RoomVersion {
  const v = getRoomVersion(id);
  if (!v) throw new Error(`unknown room version ${id}`);
  return v;
}

/** A room under construction: events are added to its state without being authorised. */
export class TestRoom {
  readonly version: RoomVersion;
  readonly roomId: string;
  readonly create: RoomEvent;
  private readonly current = new Map<string, RoomEvent>();
  private lastEventId: string;
  private counter = 0;

  constructor(versionId: string, createContent: JsonObject = {}, creator = ALICE) {
    this.version = version(versionId);
    const content: JsonObject = { room_version: versionId, ...createContent };
    if (!this.version.implicitCreator && !Object.hasOwn(createContent, 'creator')) content.creator = creator;
    if (this.version.roomIdFromCreate) {
      const createId = `$create${versionId}xyz`;
      this.roomId = `!${createId.slice(1)}`;
      this.create = this.build({ type: 'm.room.create', sender: creator, stateKey: '', content, prevEvents: [], eventId: createId, roomId: null });
    } else {
      this.roomId = `!room:${domainOf(creator) ?? 'a.example'}`;
      this.create = this.build({ type: 'm.room.create', sender: creator, stateKey: '', content, prevEvents: [] });
    }
    this.lastEventId = this.create.eventId;
    this.current.set(stateKey('m.room.create', ''), this.create);
  }

  private nextEventId(sender: string): string {
    this.counter += 1;
    // v1/v2 event ids carry the origin's domain (the v1 redaction rule reads it).
    if (this.version.eventIdFormat === 'v1') return `$e${this.counter}:${domainOf(sender) ?? 'unknown'}`;
    return `$v${this.version.id}e${this.counter}`;
  }

  private ref(id: string): EventRef {
    return this.version.legacyEventRefs ? [id, { sha256: 'AAAA' }] : id;
  }

  /** Builds an event without adding it to the room. */
  build(spec: EventSpec): RoomEvent {
    const eventId = spec.eventId ?? this.nextEventId(spec.sender);
    const content: JsonObject = { ...(spec.content ?? {}) };
    const json: PDUJson = {
      sender: spec.sender,
      type: spec.type,
      content,
      prev_events: (spec.prevEvents ?? [this.lastEventId]).map((id) => this.ref(id)),
      auth_events: (spec.authEvents ?? []).map((id) => this.ref(id)),
      depth: this.counter + 1,
      origin_server_ts: 1_700_000_000_000 + this.counter,
      hashes: { sha256: 'AAAA' },
      signatures: spec.signatures ?? { [domainOf(spec.sender) ?? 'unknown']: { 'ed25519:test': 'c2ln' } },
    };
    const roomId = spec.roomId === undefined ? this.roomId : spec.roomId;
    if (roomId !== null) json.room_id = roomId;
    if (spec.stateKey !== undefined) json.state_key = spec.stateKey;
    if (this.version.legacyEventRefs) json.event_id = eventId;
    if (spec.redacts !== undefined) {
      if (this.version.redactsInContent) content.redacts = spec.redacts;
      else json.redacts = spec.redacts;
    }
    return toRoomEvent(json, eventId, this.version, roomId ?? undefined);
  }

  /** Builds an event and applies it to the room's state. */
  add(spec: EventSpec): RoomEvent {
    const ev = this.build(spec);
    this.lastEventId = ev.eventId;
    if (ev.stateKey !== undefined) this.current.set(stateKey(ev.type, ev.stateKey), ev);
    return ev;
  }

  /** Sets `user`'s membership (sent by `sender`, default the user). */
  member(user: string, membership: string, sender = user, extra: JsonObject = {}): RoomEvent {
    return this.add({ type: 'm.room.member', sender, stateKey: user, content: { membership, ...extra } });
  }

  /** Removes a piece of state (to model state without it). */
  remove(type: string, key: string): void {
    this.current.delete(stateKey(type, key));
  }

  /** The current state events. */
  stateEvents(): RoomEvent[] {
    return [...this.current.values()];
  }

  /** A snapshot of the current state. */
  state(): AuthState {
    const snapshot = new Map(this.current);
    return { get: (type, key) => snapshot.get(stateKey(type, key)) };
  }
}

export interface StandardRoomOptions {
  joinRule?: string;
  /** Power levels content; `null` for no power levels event. */
  powerLevels?: JsonObject | null;
  createContent?: JsonObject;
  /** Memberships after the standard members (alice, bob, mod, mod2 joined). */
  members?: Record<string, string>;
}

/** The power levels the standard room starts with: alice 100 (v12: a creator, so unlisted), mods 50. */
export function standardPowerLevels(v: RoomVersion): JsonObject {
  const users: JsonObject = { [MOD]: 50, [MOD2]: 50 };
  if (!v.privilegedCreators) users[ALICE] = 100;
  return {
    users,
    users_default: 0,
    events: { 'm.room.tombstone': 100, 'm.room.power_levels': 50 },
    events_default: 0,
    state_default: 50,
    ban: 50,
    kick: 50,
    redact: 50,
    invite: 0,
    notifications: { room: 50 },
  };
}

/**
 * A room as most tests need it: create, alice joined, power levels, join rules, then bob, mod
 * and mod2 joined, then `members`.
 */
export function standardRoom(versionId: string, opts: StandardRoomOptions = {}): TestRoom {
  const room = new TestRoom(versionId, opts.createContent ?? {});
  room.member(ALICE, 'join');
  if (opts.powerLevels !== null) {
    room.add({ type: 'm.room.power_levels', sender: ALICE, stateKey: '', content: opts.powerLevels ?? standardPowerLevels(room.version) });
  }
  room.add({ type: 'm.room.join_rules', sender: ALICE, stateKey: '', content: { join_rule: opts.joinRule ?? 'invite' } });
  for (const user of [BOB, MOD, MOD2]) room.member(user, 'join');
  for (const [user, membership] of Object.entries(opts.members ?? {})) room.member(user, membership, ALICE);
  return room;
}
