import type { RoomVersion } from './roomversions.js';

export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };

/** `signatures`: server name → key id → unpadded base64 signature. */
export type Signatures = Record<string, Record<string, string>>;

/** A reference to another event: an id (v3+) or an `[id, {sha256}]` pair (v1, v2). */
export type EventRef = string | [string, { sha256: string }];

/** A PDU as it travels over federation (the wire format). `event_id` is present only in v1/v2. */
export interface PDUJson {
  event_id?: string;
  room_id?: string; // absent only on a v12 m.room.create
  sender: string;
  type: string;
  state_key?: string;
  content: JsonObject;
  prev_events: EventRef[];
  auth_events: EventRef[];
  depth: number;
  origin_server_ts: number;
  hashes: { sha256: string };
  signatures: Signatures;
  unsigned?: JsonObject;
  redacts?: string; // top-level in v1–v10
  origin?: string;
  [key: string]: JsonValue | undefined;
}

/**
 * A room event with its version-independent fields read out once. Auth rules, state
 * resolution and storage work on this; `json` keeps the exact wire form for hashing,
 * signing and sending.
 */
export interface RoomEvent {
  readonly eventId: string;
  readonly roomId: string;
  readonly type: string;
  /** undefined for message events; '' is a valid state key. */
  readonly stateKey: string | undefined;
  readonly sender: string;
  readonly content: JsonObject;
  readonly prevEventIds: readonly string[];
  readonly authEventIds: readonly string[];
  readonly depth: number;
  readonly originServerTs: number;
  /** The event a redaction redacts (top-level in v1–10, in content from v11). */
  readonly redacts: string | undefined;
  readonly version: RoomVersion;
  readonly json: PDUJson;
}

export function isState(ev: RoomEvent): boolean {
  return ev.stateKey !== undefined;
}

/** The key of a state event in a state map. */
export function stateKey(type: string, key: string): string {
  return `${type}\u0000${key}`;
}

export function splitStateKey(k: string): [string, string] {
  const i = k.indexOf('\u0000');
  return [k.slice(0, i), k.slice(i + 1)];
}
