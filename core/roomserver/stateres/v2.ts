import type { RoomVersion } from '../../events/roomversions.js';
import { stateKey } from '../../events/types.js';
import { authDifference } from './authdifference.js';
import { EventGraph } from './eventgraph.js';
import { iterativeAuthChecks } from './iterative.js';
import { mainlineOrder } from './mainline.js';
import { isPowerEvent, reverseTopologicalPowerOrder } from './powerorder.js';
import { separateV2 } from './separate.js';
import { conflictedSubgraph } from './subgraph.js';
import type { EventProvider, StateMap } from './types.js';

/**
 * The full conflicted set: the conflicted state set, the auth difference and, with v2.1 (room
 * v12), the conflicted state subgraph; only events the provider knows.
 */
export function fullConflictedSet(
  version: RoomVersion,
  stateSets: readonly StateMap[],
  unconflicted: StateMap,
  conflicted: ReadonlyMap<string, ReadonlySet<string>>,
  graph: EventGraph,
): Set<string> {
  const conflictedIds: string[] = [];
  for (const ids of conflicted.values()) conflictedIds.push(...ids);
  const full = new Set(conflictedIds);
  for (const id of authDifference(stateSets, unconflicted, graph)) full.add(id);
  if (version.stateRes === 'v2.1') for (const id of conflictedSubgraph(conflictedIds, graph)) full.add(id);
  for (const id of full) if (graph.event(id) === undefined) full.delete(id);
  return full;
}

/**
 * State resolution v2 (rooms v2–11) and v2.1 (room v12, which starts the first iterative auth
 * checks from an empty state and adds the conflicted state subgraph).
 */
export function resolveV2(version: RoomVersion, stateSets: readonly StateMap[], provider: EventProvider): StateMap {
  if (stateSets.length === 0) return new Map();
  if (stateSets.length === 1) return new Map(stateSets[0]);
  const { unconflicted, conflicted } = separateV2(stateSets);
  if (conflicted.size === 0) return unconflicted;

  const graph = new EventGraph(provider);
  const full = fullConflictedSet(version, stateSets, unconflicted, conflicted, graph);

  // 1–2: power events and the parts of their auth chains in the full conflicted set.
  const powerEvents = [...full].filter((id) => isPowerEvent(graph.event(id)!));
  const sortedPower = reverseTopologicalPowerOrder(powerEvents, full, graph);
  const start: StateMap = version.stateRes === 'v2.1' ? new Map() : unconflicted;
  const partial = iterativeAuthChecks(sortedPower, start, graph);

  // 3–4: everything else, by mainline of the power levels just resolved.
  const inPowerOrder = new Set(sortedPower);
  const others = [...full].filter((id) => !inPowerOrder.has(id));
  const sortedOthers = mainlineOrder(others, partial.get(stateKey('m.room.power_levels', '')), graph);
  const resolved = iterativeAuthChecks(sortedOthers, partial, graph);

  // 5: the unconflicted state map wins.
  for (const [k, id] of unconflicted) resolved.set(k, id);
  return resolved;
}
