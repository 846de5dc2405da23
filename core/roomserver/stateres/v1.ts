import { createHash } from 'node:crypto';
import { splitStateKey, stateKey, type RoomEvent } from '../../events/types.js';
import { checkAuth, type AuthState } from '../auth/index.js';
import { compareNumbers } from './compare.js';
import { separateV1 } from './separate.js';
import type { EventProvider, StateMap } from './types.js';

function sha1Hex(id: string): string {
  return createHash('sha1').update(id, 'utf8').digest('hex');
}

/** Sorted by ascending depth, then descending sha1(event_id). */
function byDepthThenDescendingSha1(events: readonly RoomEvent[]): RoomEvent[] {
  const keyed = events.map((ev) => ({ ev, sha1: sha1Hex(ev.eventId) }));
  keyed.sort((a, b) => compareNumbers(a.ev.depth, b.ev.depth) || (a.sha1 < b.sha1 ? 1 : a.sha1 > b.sha1 ? -1 : 0));
  return keyed.map((k) => k.ev);
}

function stateOf(resolved: ReadonlyMap<string, RoomEvent>): AuthState {
  return { get: (type, key) => resolved.get(stateKey(type, key)) };
}

/**
 * A conflict between events that affect authorisation (power levels, join rules, members): from
 * the earliest, take each next event while it is allowed in the state so far.
 */
export function resolveAuthConflictV1(key: string, events: readonly RoomEvent[], resolved: ReadonlyMap<string, RoomEvent>): RoomEvent {
  const sorted = byDepthThenDescendingSha1(events);
  let current = sorted[0]!;
  const state: AuthState = {
    get: (type, stateKeyValue) => {
      const k = stateKey(type, stateKeyValue);
      return k === key ? current : resolved.get(k);
    },
  };
  for (const ev of sorted.slice(1)) {
    if (!checkAuth(ev, state).allowed) break;
    current = ev;
  }
  return current;
}

/**
 * Any other conflict: the event of highest depth (then lowest sha1(event_id)) that is allowed in
 * the resolved state; when none is, the last in that order (as Synapse and gomatrixserverlib
 * do; the spec does not say).
 */
export function resolveNormalConflictV1(events: readonly RoomEvent[], resolved: ReadonlyMap<string, RoomEvent>): RoomEvent {
  const sorted = byDepthThenDescendingSha1(events).reverse();
  const state = stateOf(resolved);
  return sorted.find((ev) => checkAuth(ev, state).allowed) ?? sorted[sorted.length - 1]!;
}

/**
 * State resolution for room v1 (spec rooms/v1 "State resolution"): unconflicted state, then
 * conflicts of power levels, join rules, members, and the rest, each pass authorising against
 * the state resolved so far. Members are resolved key by key against the same state and then
 * applied together, so the result does not depend on the order of the keys (as Synapse does).
 */
export function resolveV1(stateSets: readonly StateMap[], provider: EventProvider): StateMap {
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);
  const { unconflicted, conflicted } = separateV1(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const result: StateMap = new Map(unconflicted);
  const resolved = new Map<string, RoomEvent>();
  for (const [k, id] of unconflicted) {
    const ev = provider.get(id);
    if (ev) resolved.set(k, ev);
  }
  const apply = (k: string, ev: RoomEvent): void => {
    result.set(k, ev.eventId);
    resolved.set(k, ev);
  };

  const powerLevels: Array<[string, RoomEvent[]]> = [];
  const joinRules: Array<[string, RoomEvent[]]> = [];
  const members: Array<[string, RoomEvent[]]> = [];
  const others: Array<[string, RoomEvent[]]> = [];
  for (const [k, ids] of conflicted) {
    const events = [...ids].map((id) => provider.get(id)).filter((ev): ev is RoomEvent => ev !== undefined);
    if (events.length === 0) continue;
    if (events.length === 1) {
      apply(k, events[0]!);
      continue;
    }
    const [type, key] = splitStateKey(k);
    if (type === 'm.room.power_levels' && key === '') powerLevels.push([k, events]);
    else if (type === 'm.room.join_rules') joinRules.push([k, events]);
    else if (type === 'm.room.member') members.push([k, events]);
    else others.push([k, events]);
  }

  for (const group of [powerLevels, joinRules, members]) {
    const picked = group.map(([k, events]) => [k, resolveAuthConflictV1(k, events, resolved)] as const);
    for (const [k, ev] of picked) apply(k, ev);
  }
  const picked = others.map(([k, events]) => [k, resolveNormalConflictV1(events, resolved)] as const);
  for (const [k, ev] of picked) apply(k, ev);
  return result;
}
