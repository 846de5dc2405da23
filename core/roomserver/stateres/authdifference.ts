import type { EventGraph } from './eventgraph.js';
import type { StateMap } from './types.js';

/**
 * The auth difference ∪Cᵢ − ∩Cᵢ, where Cᵢ is the full auth chain of state set i (spec v2
 * "Auth difference"). As Synapse computes it, Cᵢ also holds the set's own events, so an event
 * every set has (an unconflicted one) is never in the difference; conflicted events are in the
 * full conflicted set either way. Unknown events end a walk but still count as reached.
 *
 * The chain of the unconflicted events is in every Cᵢ, and so is everything it reaches: it is
 * walked once, and each set's walk from its own other events stops there.
 */
export function authDifference(stateSets: readonly StateMap[], unconflicted: StateMap, graph: EventGraph): Set<string> {
  const difference = new Set<string>();
  if (stateSets.length < 2) return difference;

  const common = new Set<string>();
  const stack: string[] = [...unconflicted.values()];
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (common.has(id)) continue;
    common.add(id);
    const ev = graph.event(id);
    if (ev) for (const a of ev.authEventIds) if (!common.has(a)) stack.push(a);
  }

  // Sets are walked one after another, so "seen by this set" is "last seen by set i".
  const lastSeenBy = new Map<string, number>();
  const reachedBy = new Map<string, number>();
  stateSets.forEach((set, i) => {
    for (const id of set.values()) if (!common.has(id)) stack.push(id);
    while (stack.length > 0) {
      const id = stack.pop()!;
      if (lastSeenBy.get(id) === i) continue;
      lastSeenBy.set(id, i);
      reachedBy.set(id, (reachedBy.get(id) ?? 0) + 1);
      const ev = graph.event(id);
      if (ev) for (const a of ev.authEventIds) if (!common.has(a) && lastSeenBy.get(a) !== i) stack.push(a);
    }
  });
  for (const [id, count] of reachedBy) if (count < stateSets.length) difference.add(id);
  return difference;
}
