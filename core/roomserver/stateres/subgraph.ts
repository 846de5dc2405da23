import type { EventGraph } from './eventgraph.js';

/**
 * The conflicted state subgraph (v12, spec "Conflicted state subgraph"): every event on an
 * auth_events path from one conflicted event to another, endpoints included. An event is on
 * such a path when it is an auth ancestor of a conflicted event and a conflicted event is among
 * its own auth ancestors (or is itself conflicted): walk the ancestry of the conflicted events,
 * then walk back down the recorded edges from the conflicted events that were reached.
 */
export function conflictedSubgraph(conflicted: Iterable<string>, graph: EventGraph): Set<string> {
  const conflictedSet = new Set(conflicted);
  /** Events reached from a conflicted event through at least one auth edge. */
  const reached = new Set<string>();
  /** Reverse auth edges: event → the walked events that cite it. */
  const citedBy = new Map<string, string[]>();

  const stack: string[] = [...conflictedSet];
  const expanded = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    if (expanded.has(id)) continue;
    expanded.add(id);
    const ev = graph.event(id);
    if (!ev) continue;
    for (const a of new Set(ev.authEventIds)) {
      const list = citedBy.get(a);
      if (list) list.push(id);
      else citedBy.set(a, [id]);
      reached.add(a);
      if (!expanded.has(a)) stack.push(a);
    }
  }

  const subgraph = new Set(conflictedSet);
  const down: string[] = [];
  for (const id of conflictedSet) if (reached.has(id)) down.push(id);
  const onPath = new Set<string>(down);
  while (down.length > 0) {
    const id = down.pop()!;
    subgraph.add(id);
    for (const child of citedBy.get(id) ?? []) {
      if (!onPath.has(child)) {
        onPath.add(child);
        down.push(child);
      }
    }
  }
  return subgraph;
}
