import { stateKey, type RoomEvent } from '../../events/types.js';
import { authEventTypesNeeded, checkAuth, type AuthState } from '../auth/index.js';
import type { EventGraph } from './eventgraph.js';
import type { StateMap } from './types.js';

/**
 * The state an event is authorised against during iterative auth checks: for each key the auth
 * rules need, the event in the partial state; for keys the state lacks, the event's own
 * (non-rejected) auth event. v12 events never cite the create event; it comes from the room id.
 */
export function authStateFor(ev: RoomEvent, state: StateMap, graph: EventGraph): AuthState {
  const byKey = new Map<string, RoomEvent>();
  for (const id of ev.authEventIds) {
    const ae = graph.event(id);
    if (ae && ae.stateKey !== undefined && !graph.isRejected(id)) byKey.set(stateKey(ae.type, ae.stateKey), ae);
  }
  if (ev.version.roomIdFromCreate && ev.type !== 'm.room.create') {
    const create = graph.createEventOf(ev);
    if (create) byKey.set(stateKey('m.room.create', ''), create);
  }
  for (const [type, key] of authEventTypesNeeded(ev, ev.version)) {
    const k = stateKey(type, key);
    const id = state.get(k);
    if (id === undefined) continue;
    const se = graph.event(id);
    if (se && !graph.isRejected(id)) byKey.set(k, se);
  }
  return { get: (type, key) => byKey.get(stateKey(type, key)) };
}

/**
 * Iterative auth checks (spec v2): applies each state event, in order, to the state when the
 * auth rules allow it against that state; others are skipped. Returns a new map.
 */
export function iterativeAuthChecks(eventIds: Iterable<string>, initial: StateMap, graph: EventGraph): StateMap {
  const state: StateMap = new Map(initial);
  for (const id of eventIds) {
    const ev = graph.event(id);
    if (!ev || ev.stateKey === undefined) continue;
    if (checkAuth(ev, authStateFor(ev, state, graph)).allowed) state.set(stateKey(ev.type, ev.stateKey), id);
  }
  return state;
}
