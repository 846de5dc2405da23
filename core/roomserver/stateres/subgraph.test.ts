import { describe, expect, test } from 'vitest';
import { EventGraph } from './eventgraph.js';
import { conflictedSubgraph } from './subgraph.js';
import { ALICE, DagBuilder } from './testutil.js';

function subgraph(edges: Record<string, string[]>, conflicted: string[]): string[] {
  const d = new DagBuilder('12');
  for (const [node, auth] of Object.entries(edges)) {
    d.add(node, { type: 't', sender: ALICE, stateKey: node }, [], auth.map((a) => d.idOf(a)));
  }
  return [...conflictedSubgraph(conflicted.map((n) => d.idOf(n)), new EventGraph(d.provider()))].map((id) => id.slice(1)).sort();
}

describe('conflictedSubgraph', () => {
  test('holds the events on auth paths between conflicted events, endpoints included', () => {
    // C1 → M1 → M2 → C2, with side branches that lead to no conflicted event.
    const edges = { ROOT: [], C2: ['ROOT'], M2: ['C2'], SIDE: ['ROOT'], M1: ['M2', 'SIDE'], C1: ['M1'], NEWER: ['C1'] };
    expect(subgraph(edges, ['C1', 'C2'])).toEqual(['C1', 'C2', 'M1', 'M2']);
  });

  test('joins every pair: paths from several conflicted events to several others', () => {
    const edges = { R: [], C3: ['R'], A: ['C3'], C2: ['A'], B: ['C3'], C1: ['B', 'C2'] };
    expect(subgraph(edges, ['C1', 'C2', 'C3'])).toEqual(['A', 'B', 'C1', 'C2', 'C3']);
  });

  test('unrelated conflicted events add nothing but themselves', () => {
    const edges = { R: [], C1: ['R'], C2: ['R'] };
    expect(subgraph(edges, ['C1', 'C2'])).toEqual(['C1', 'C2']);
  });

  test('unknown conflicted events are kept as endpoints without edges', () => {
    const edges = { R: [], C1: ['R'] };
    expect(subgraph(edges, ['C1', 'GONE'])).toEqual(['C1', 'GONE']);
  });
});
