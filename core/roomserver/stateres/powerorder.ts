import { stateKey, type RoomEvent } from '../../events/types.js';
import { userPowerLevel } from '../auth/index.js';
import { compareCodePoints, compareNumbers } from './compare.js';
import type { EventGraph } from './eventgraph.js';
import { MinHeap } from './heap.js';

/**
 * A power event (spec v2 "Power events"): power levels, join rules, or a member event that
 * makes someone else leave or be banned. The create event counts too, as in Synapse and ruma;
 * it only enters the full conflicted set in malformed state, where it must sort first.
 */
export function isPowerEvent(ev: RoomEvent): boolean {
  if (ev.stateKey === undefined) return false;
  switch (ev.type) {
    case 'm.room.power_levels':
    case 'm.room.join_rules':
    case 'm.room.create':
      return ev.stateKey === '';
    case 'm.room.member': {
      const m = ev.content.membership;
      return (m === 'leave' || m === 'ban') && ev.sender !== ev.stateKey;
    }
    default:
      return false;
  }
}

/**
 * The sender's power level "when looking at their auth_events": the power levels event among
 * them, else 100 for the creator (v1–11) and 0 for others; v12 creators are Infinity.
 */
export function senderPowerLevel(ev: RoomEvent, graph: EventGraph): number {
  const powerLevels = graph.authEventOfType(ev, 'm.room.power_levels');
  const create = graph.createEventOf(ev);
  const plKey = stateKey('m.room.power_levels', '');
  const createKey = stateKey('m.room.create', '');
  return userPowerLevel(ev.sender, {
    get: (type, key) => {
      const k = stateKey(type, key);
      return k === plKey ? powerLevels : k === createKey ? create : undefined;
    },
  });
}

/**
 * Kahn's algorithm over `authEdges` (node → the nodes it cites; edges to nodes outside the map
 * are ignored), emitting cited nodes before their citers and, among the candidates at each
 * step, the smallest under `compare`. Nodes on a cycle are never emitted.
 */
export function lexicographicalTopologicalSort(
  authEdges: ReadonlyMap<string, Iterable<string>>,
  compare: (a: string, b: string) => number,
): string[] {
  const remaining = new Map<string, number>();
  const citedBy = new Map<string, string[]>();
  for (const [node, cited] of authEdges) {
    let count = 0;
    for (const c of new Set(cited)) {
      if (!authEdges.has(c)) continue;
      count += 1;
      const list = citedBy.get(c);
      if (list) list.push(node);
      else citedBy.set(c, [node]);
    }
    remaining.set(node, count);
  }
  const heap = new MinHeap<string>(compare);
  for (const [node, count] of remaining) if (count === 0) heap.push(node);
  const sorted: string[] = [];
  for (let node = heap.pop(); node !== undefined; node = heap.pop()) {
    sorted.push(node);
    for (const citer of citedBy.get(node) ?? []) {
      const left = remaining.get(citer)! - 1;
      remaining.set(citer, left);
      if (left === 0) heap.push(citer);
    }
  }
  return sorted;
}

/**
 * Step 1 of the v2 algorithm: the power events plus the events of their auth chains that are in
 * the full conflicted set, in reverse topological power ordering (higher sender power first,
 * then earlier origin_server_ts, then smaller event id). As Synapse, ruma and gomatrixserverlib
 * do, auth chains are followed through full-conflicted-set events only.
 */
export function reverseTopologicalPowerOrder(
  powerEventIds: Iterable<string>,
  fullConflictedSet: ReadonlySet<string>,
  graph: EventGraph,
): string[] {
  const authEdges = new Map<string, string[]>();
  const stack = [...powerEventIds];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (authEdges.has(id)) continue;
    const ev = graph.event(id);
    if (!ev) continue;
    const cited = ev.authEventIds.filter((a) => fullConflictedSet.has(a) && graph.event(a) !== undefined);
    authEdges.set(id, cited);
    for (const a of cited) if (!authEdges.has(a)) stack.push(a);
  }
  const keys = new Map<string, { power: number; ts: number }>();
  for (const id of authEdges.keys()) {
    const ev = graph.event(id)!;
    keys.set(id, { power: senderPowerLevel(ev, graph), ts: ev.originServerTs });
  }
  return lexicographicalTopologicalSort(authEdges, (a, b) => {
    const ka = keys.get(a)!;
    const kb = keys.get(b)!;
    return compareNumbers(kb.power, ka.power) || compareNumbers(ka.ts, kb.ts) || compareCodePoints(a, b);
  });
}
