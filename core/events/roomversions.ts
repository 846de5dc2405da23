/**
 * The registry of room versions 1–12 and the properties that differ between them.
 * Everything version-dependent (event ids, redaction, auth, state resolution) reads these
 * flags instead of comparing version strings.
 */

/** How an event id is formed: v1 = `$local:server` chosen by the origin; v3 = standard base64
 * of the reference hash; v4 = URL-safe base64 of the reference hash. */
export type EventIdFormat = 'v1' | 'v3' | 'v4';
/** Redaction algorithm family (the version in which the algorithm last changed). */
export type RedactionAlgorithm = 'v1' | 'v6' | 'v8' | 'v9' | 'v11';
/** State resolution: v1 (room v1), v2 (v2–v11), v2.1 (v12: empty start, conflicted subgraph). */
export type StateResAlgorithm = 'v1' | 'v2' | 'v2.1';

export interface RoomVersion {
  readonly id: string;
  readonly eventIdFormat: EventIdFormat;
  readonly redaction: RedactionAlgorithm;
  readonly stateRes: StateResAlgorithm;
  /** v1/v2 events carry `event_id` and reference prev/auth events as `[id, {sha256}]` pairs. */
  readonly legacyEventRefs: boolean;
  /** v6+: canonical JSON must reject floats and integers outside [-(2^53)+1, 2^53-1]. */
  readonly strictCanonicalJson: boolean;
  /** v1–5: `m.room.aliases` has its own auth rule. v6+: it is an ordinary state event. */
  readonly specialCaseAliasesAuth: boolean;
  /** v7+: the `knock` membership and join rule. */
  readonly knock: boolean;
  /** v8+: the `restricted` join rule and `join_authorised_via_users_server`. */
  readonly restrictedJoins: boolean;
  /** v10+: the `knock_restricted` join rule. */
  readonly knockRestricted: boolean;
  /** v10+: power level values must be integers (no strings). */
  readonly integerPowerLevels: boolean;
  /** v6+: `notifications` power levels are enforced by auth (v6 added them to power level checks). */
  readonly notificationsPowerLevels: boolean;
  /** v11+: the create event has no `creator`; the sender is the creator. */
  readonly implicitCreator: boolean;
  /** v11+: `redacts` lives in the content of `m.room.redaction`. */
  readonly redactsInContent: boolean;
  /** v12: the room id is `!` + URL-safe base64 of the create event's reference hash; the create
   * event has no room_id and is never listed in auth_events. */
  readonly roomIdFromCreate: boolean;
  /** v12: creators (sender + additional_creators) have infinite power and cannot be listed. */
  readonly privilegedCreators: boolean;
  /** v5+: signing keys must be valid at the event's origin_server_ts. */
  readonly enforceKeyValidity: boolean;
}

const v1: RoomVersion = {
  id: '1',
  eventIdFormat: 'v1',
  redaction: 'v1',
  stateRes: 'v1',
  legacyEventRefs: true,
  strictCanonicalJson: false,
  specialCaseAliasesAuth: true,
  knock: false,
  restrictedJoins: false,
  knockRestricted: false,
  integerPowerLevels: false,
  notificationsPowerLevels: false,
  implicitCreator: false,
  redactsInContent: false,
  roomIdFromCreate: false,
  privilegedCreators: false,
  enforceKeyValidity: false,
};

const v2: RoomVersion = { ...v1, id: '2', stateRes: 'v2' };
const v3: RoomVersion = { ...v2, id: '3', eventIdFormat: 'v3', legacyEventRefs: false };
const v4: RoomVersion = { ...v3, id: '4', eventIdFormat: 'v4' };
const v5: RoomVersion = { ...v4, id: '5', enforceKeyValidity: true };
const v6: RoomVersion = {
  ...v5,
  id: '6',
  redaction: 'v6',
  strictCanonicalJson: true,
  specialCaseAliasesAuth: false,
  notificationsPowerLevels: true,
};
const v7: RoomVersion = { ...v6, id: '7', knock: true };
const v8: RoomVersion = { ...v7, id: '8', redaction: 'v8', restrictedJoins: true };
const v9: RoomVersion = { ...v8, id: '9', redaction: 'v9' };
const v10: RoomVersion = { ...v9, id: '10', knockRestricted: true, integerPowerLevels: true };
const v11: RoomVersion = {
  ...v10,
  id: '11',
  redaction: 'v11',
  implicitCreator: true,
  redactsInContent: true,
};
const v12: RoomVersion = {
  ...v11,
  id: '12',
  stateRes: 'v2.1',
  roomIdFromCreate: true,
  privilegedCreators: true,
};

export const ROOM_VERSIONS: ReadonlyMap<string, RoomVersion> = new Map(
  [v1, v2, v3, v4, v5, v6, v7, v8, v9, v10, v11, v12].map((v) => [v.id, v]),
);

/** The version new rooms get unless the client asks for another. */
export const DEFAULT_ROOM_VERSION = '12';

export function getRoomVersion(id: string): RoomVersion | undefined {
  return ROOM_VERSIONS.get(id);
}

/** For `/capabilities`: every version is stable. */
export function roomVersionCapabilities(): { default: string; available: Record<string, 'stable'> } {
  const available: Record<string, 'stable'> = {};
  for (const id of ROOM_VERSIONS.keys()) available[id] = 'stable';
  return { default: DEFAULT_ROOM_VERSION, available };
}
