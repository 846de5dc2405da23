import type { RoomVersion } from '../../events/roomversions.js';
import type { JsonObject, JsonValue, RoomEvent } from '../../events/types.js';
import { isValidUserId } from './ids.js';
import type { AuthState } from './types.js';

/** The top-level integer properties of `m.room.power_levels` content. */
export const POWER_LEVEL_KEYS = ['users_default', 'events_default', 'state_default', 'ban', 'redact', 'kick', 'invite'] as const;
export type PowerLevelKey = (typeof POWER_LEVEL_KEYS)[number];

const DEFAULTS: Readonly<Record<PowerLevelKey, number>> = {
  users_default: 0,
  events_default: 0,
  state_default: 50,
  ban: 50,
  redact: 50,
  kick: 50,
  invite: 0,
};

/** Parsed `m.room.power_levels` content. */
export interface PowerLevels {
  /** Top-level levels with the spec defaults filled in. */
  readonly levels: Readonly<Record<PowerLevelKey, number>>;
  /** Top-level levels exactly as present in the content (the change rules compare these). */
  readonly explicit: Readonly<Partial<Record<PowerLevelKey, number>>>;
  readonly events: ReadonlyMap<string, number>;
  readonly notifications: ReadonlyMap<string, number>;
  readonly users: ReadonlyMap<string, number>;
}

/** Which part of the content was malformed, for the rule that rejects it. */
export type PowerLevelsProblem = 'values' | 'maps' | 'users';

const STRINGY_INTEGER = /^\s*[+-]?\d+\s*$/;

/**
 * A power level value as the version accepts it: v10+ integers only; v1–9 also integer strings
 * (the "stringy" schema); v1–5 also floats, truncated (the "floaty" schema — v6+ canonical JSON
 * has no floats).
 */
export function parsePowerLevelValue(value: JsonValue | undefined, version: RoomVersion): number | undefined {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value;
    if (!version.strictCanonicalJson && Number.isFinite(value)) return Math.trunc(value);
    return undefined;
  }
  if (typeof value === 'string' && !version.integerPowerLevels && STRINGY_INTEGER.test(value)) {
    const n = Number(value.trim());
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

function isObject(v: JsonValue | undefined): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A map of key → level, or undefined if any value is malformed; absent means empty. */
function parseLevelMap(value: JsonValue | undefined, version: RoomVersion, keyOk: (k: string) => boolean): Map<string, number> | undefined {
  const out = new Map<string, number>();
  if (value === undefined) return out;
  if (!isObject(value)) return undefined;
  for (const [k, raw] of Object.entries(value)) {
    const level = parsePowerLevelValue(raw, version);
    if (level === undefined || !keyOk(k)) return undefined;
    out.set(k, level);
  }
  return out;
}

function validEntries(value: JsonValue | undefined, version: RoomVersion): Map<string, number> {
  const out = new Map<string, number>();
  if (!isObject(value)) return out;
  for (const [k, raw] of Object.entries(value)) {
    const level = parsePowerLevelValue(raw, version);
    if (level !== undefined) out.set(k, level);
  }
  return out;
}

/** Parses content, or says which part is malformed for the version. */
export function parsePowerLevelsDetailed(
  content: JsonObject,
  version: RoomVersion,
): { ok: true; value: PowerLevels } | { ok: false; problem: PowerLevelsProblem; reason: string } {
  const explicit: Partial<Record<PowerLevelKey, number>> = {};
  for (const key of POWER_LEVEL_KEYS) {
    if (!Object.hasOwn(content, key)) continue;
    const level = parsePowerLevelValue(content[key], version);
    if (level === undefined) return { ok: false, problem: 'values', reason: `${key} is not a valid power level` };
    explicit[key] = level;
  }
  const events = parseLevelMap(content.events, version, () => true);
  if (!events) return { ok: false, problem: 'maps', reason: 'events is not an object of valid power levels' };
  // Before v6 auth ignores `notifications`, so a malformed one keeps only its valid entries.
  const notifications = version.notificationsPowerLevels
    ? parseLevelMap(content.notifications, version, () => true)
    : validEntries(content.notifications, version);
  if (!notifications) return { ok: false, problem: 'maps', reason: 'notifications is not an object of valid power levels' };
  const users = parseLevelMap(content.users, version, isValidUserId);
  if (!users) return { ok: false, problem: 'users', reason: 'users is not an object of valid user IDs to valid power levels' };
  return { ok: true, value: { levels: { ...DEFAULTS, ...explicit }, explicit, events, notifications, users } };
}

/** Parsed content, or undefined when it is invalid for the version (v10+: any non-integer). */
export function parsePowerLevels(content: JsonObject, version: RoomVersion): PowerLevels | undefined {
  const parsed = parsePowerLevelsDetailed(content, version);
  return parsed.ok ? parsed.value : undefined;
}

const EMPTY: PowerLevels = { levels: DEFAULTS, explicit: {}, events: new Map(), notifications: new Map(), users: new Map() };
const cache = new WeakMap<RoomEvent, PowerLevels>();

/**
 * The levels of a power levels event already in the room state. Such an event passed auth, so it
 * parses; should it not, it counts as one with only defaults rather than failing every check.
 */
export function powerLevelsOf(event: RoomEvent): PowerLevels {
  let pl = cache.get(event);
  if (!pl) {
    pl = parsePowerLevels(event.content, event.version) ?? EMPTY;
    cache.set(event, pl);
  }
  return pl;
}

/** The levels in force in `state`: the power levels event's, or the defaults when there is none. */
export function currentPowerLevels(state: AuthState): PowerLevels {
  const ev = state.get('m.room.power_levels', '');
  return ev ? powerLevelsOf(ev) : EMPTY;
}

/**
 * The room creators: v12 the create sender plus valid `additional_creators`; v11 the sender;
 * v1–10 `content.creator`.
 */
export function roomCreators(create: RoomEvent): string[] {
  const v = create.version;
  if (!v.implicitCreator) return typeof create.content.creator === 'string' ? [create.content.creator] : [];
  const creators = [create.sender];
  const extra = create.content.additional_creators;
  if (v.privilegedCreators && Array.isArray(extra)) {
    for (const id of extra) if (typeof id === 'string' && isValidUserId(id)) creators.push(id);
  }
  return creators;
}

/** A user's power level: Infinity for v12 creators; 100 for the creator (0 for others) without a power levels event. */
export function userPowerLevel(userId: string, state: AuthState): number {
  const create = state.get('m.room.create', '');
  const creators = create ? roomCreators(create) : [];
  if (create?.version.privilegedCreators && creators.includes(userId)) return Infinity;
  const plEvent = state.get('m.room.power_levels', '');
  if (!plEvent) return creators.includes(userId) && !create?.version.privilegedCreators ? 100 : 0;
  const pl = powerLevelsOf(plEvent);
  return pl.users.get(userId) ?? pl.levels.users_default;
}

/** The level needed to send an event of `type`: `events[type]`, else `state_default` / `events_default`. */
export function requiredPowerForEvent(type: string, isState: boolean, state: AuthState): number {
  const pl = currentPowerLevels(state);
  return pl.events.get(type) ?? (isState ? pl.levels.state_default : pl.levels.events_default);
}

/** The level a top-level action needs (`invite`, `kick`, `ban`, `redact`, ...). */
export function actionPowerLevel(key: PowerLevelKey, state: AuthState): number {
  return currentPowerLevels(state).levels[key];
}
